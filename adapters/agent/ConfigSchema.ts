/**
 * The Schema transformations that decode the agent's configuration file (its fields are in `ConfigFields.ts`) into
 * an `AgentConfig`: paths resolved against the file's directory, the endpoint and cluster chosen, defaults filled in,
 * the core's request checks and the rules across tokens. Every problem is a parse issue at its field's path, with a
 * message that never repeats the value; unknown keys are rejected by the decoder in `Config.ts`.
 *
 * @internal
 * @module
 */
import type * as Path from "@effect/platform/Path"
import * as Arr from "effect/Array"
import type * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import { cacheKey } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import type { InvalidTokenRequest } from "../../core/TokenError.ts"
import * as Validation from "../../core/Validation.ts"
import { defaultMaxInFlight } from "./Budget.ts"
import type { AgentConfig, ClusterSpec, EndpointSpec, FileSinkSpec, HooksSpec, TokenSpec } from "./Config.ts"
import type { ConfigFile } from "./ConfigFields.ts"
import {
  Audiences,
  Bool,
  BoundObject,
  Budget,
  Defaults,
  FileMode,
  Jitter,
  Log,
  Mapping,
  NonEmpty,
  OneOf,
  opt,
  Principal,
  Seconds,
  signalNames,
  TokenName,
} from "./ConfigFields.ts"
import { isLoopback } from "./Loopback.ts"

/** Where relative paths resolve: the config file's directory. */
interface Place {
  readonly directory: string
  readonly path: Path.Path
}

/** A value built by a transformation below: it was checked while being built, so it is taken as it is. */
const Built = <A>(identifier: string): Schema.Schema<A> => Schema.declare((_: unknown): _ is A => true, { identifier })

/** Fails at `path` (below the node being decoded) with `message`, never with the value. */
const refuse = (
  ast: SchemaAST.AST,
  actual: unknown,
  path: ReadonlyArray<PropertyKey>,
  message: string,
): ParseResult.ParseIssue => {
  const issue = new ParseResult.Type(ast, actual, message)
  return Arr.isNonEmptyReadonlyArray(path) ? new ParseResult.Pointer(path, actual, issue) : issue
}

/** Fails with every problem found, or succeeds. */
const verdict = <A>(
  ast: SchemaAST.AST,
  actual: unknown,
  issues: ReadonlyArray<ParseResult.ParseIssue>,
  value: A,
): Effect.Effect<A, ParseResult.ParseIssue> =>
  Arr.isNonEmptyReadonlyArray(issues)
    ? ParseResult.fail(new ParseResult.Composite(ast, actual, issues))
    : ParseResult.succeed(value)

/** The resolved values are decoded only: encoding one back to a file is not supported. */
const noEncode = (value: unknown, _options: unknown, ast: SchemaAST.AST) =>
  ParseResult.fail(new ParseResult.Forbidden(ast, value, "a resolved configuration is not encoded"))

/** A token file, resolved against the config's directory, where a relative path must stay. */
const FileSink = (place: Place) =>
  Schema.transformOrFail(
    Mapping({ path: NonEmpty, mode: opt(FileMode), owner: opt(Principal), group: opt(Principal) }),
    Built<Omit<FileSinkSpec, "mode"> & { readonly mode?: number }>("FileSink"),
    {
      strict: true,
      decode: (sink, _, ast) => {
        const { directory, path } = place
        const resolved = path.resolve(directory, sink.path)
        const relative = path.relative(directory, resolved)
        const escapes = relative === ".." || relative.startsWith(`..${path.sep}`) || relative === ""
        return verdict(
          ast,
          sink,
          !path.isAbsolute(sink.path) && escapes
            ? [refuse(ast, sink, ["path"], "a relative path must stay inside the config file's directory")]
            : [],
          { ...sink, path: resolved, owner: sink.owner, group: sink.group },
        )
      },
      encode: noEncode,
    },
  )

/** Rotation hooks: the command runs in the config's directory, the PID file resolves against it, SIGHUP by default. */
const Hooks = (place: Place) =>
  Schema.transformOrFail(
    Mapping({
      command: opt(
        Schema.Array(Schema.String.annotations({ message: () => "must be a string" })).annotations({
          message: () => "must be a list of strings (argv)",
        }).pipe(
          Schema.filter((argv) => argv.length > 0 && argv[0]!.length > 0, { message: () => "must name a program" }),
        ),
      ),
      signal: opt(Mapping({ pidFile: NonEmpty, signal: opt(OneOf(...signalNames)) })),
    }),
    Built<HooksSpec>("Hooks"),
    {
      strict: true,
      decode: (hooks) =>
        ParseResult.succeed({
          command: hooks.command,
          directory: place.directory,
          signal: hooks.signal === undefined ? undefined : {
            pidFile: place.path.resolve(place.directory, hooks.signal.pidFile),
            signal: hooks.signal.signal ?? "SIGHUP",
          },
        }),
      encode: noEncode,
    },
  )

/** A token as declared: what it does not say comes from the `defaults` section. */
const Token = (place: Place) =>
  Mapping({
    name: TokenName,
    namespace: NonEmpty,
    serviceAccount: NonEmpty,
    audiences: opt(Audiences),
    expirationSeconds: opt(Seconds),
    jitter: opt(Jitter),
    boundObject: opt(BoundObject),
    file: opt(FileSink(place)),
    hooks: opt(Hooks(place)),
  })

/** `HOST:PORT` or `[IPv6]:PORT`. */
const splitAddress = (address: string): { host: string; port: number } | undefined => {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address)
  if (match === null) return undefined
  const port = Number(match[3])
  return port > 65535 ? undefined : { host: match[1] ?? match[2]!, port }
}

/** The local endpoint: a unix socket (mode 0600 by default) or a loopback TCP port behind a bearer token. */
const Endpoint = (place: Place) =>
  Schema.transformOrFail(
    Mapping({
      unix: opt(Mapping({ path: NonEmpty, mode: opt(FileMode) })),
      tcp: opt(Mapping({ address: NonEmpty, allowNonLoopback: opt(Bool), bearerToken: opt(NonEmpty) })),
    }),
    Built<EndpointSpec | undefined>("Endpoint"),
    {
      strict: true,
      decode: ({ tcp, unix }, _, ast) => {
        const fail = (path: ReadonlyArray<PropertyKey>, message: string) =>
          ParseResult.fail(refuse(ast, { tcp, unix }, path, message))
        if (unix !== undefined && tcp !== undefined) return fail([], "must declare either unix or tcp, not both")
        if (unix !== undefined) {
          const path = place.path.resolve(place.directory, unix.path)
          return ParseResult.succeed({ _tag: "Unix" as const, path, mode: unix.mode ?? 0o600 })
        }
        if (tcp === undefined) return ParseResult.succeed(undefined)
        const address = splitAddress(tcp.address)
        if (address === undefined) return fail(["tcp", "address"], "must be HOST:PORT, such as 127.0.0.1:8181")
        if (!isLoopback(address.host) && tcp.allowNonLoopback !== true) {
          return fail(
            ["tcp", "address"],
            "must be a loopback address (127.0.0.1, ::1, localhost) unless allowNonLoopback is true",
          )
        }
        if (tcp.bearerToken === undefined) {
          return fail(
            ["tcp", "bearerToken"],
            "is required: every local user (and a web page, through DNS rebinding) can reach a TCP port",
          )
        }
        return ParseResult.succeed({
          _tag: "Tcp" as const,
          ...address,
          allowNonLoopback: tcp.allowNonLoopback ?? false,
          bearerToken: Redacted.make(tcp.bearerToken),
        })
      },
      encode: noEncode,
    },
  )

/** Which cluster to ask: an explicit kubeconfig (resolved against the config's directory) or in-cluster, not both. */
const Cluster = (place: Place) =>
  Schema.transformOrFail(
    Mapping({ kubeconfig: opt(NonEmpty), context: opt(NonEmpty), inCluster: opt(Bool) }),
    Built<ClusterSpec>("Cluster"),
    {
      strict: true,
      decode: (cluster, _, ast) =>
        cluster.inCluster === true && (cluster.kubeconfig !== undefined || cluster.context !== undefined)
          ? ParseResult.fail(refuse(ast, cluster, ["inCluster"], "cannot be combined with kubeconfig or context"))
          : ParseResult.succeed({
            kubeconfig: cluster.kubeconfig === undefined
              ? undefined
              : place.path.resolve(place.directory, cluster.kubeconfig),
            context: cluster.context,
            inCluster: cluster.inCluster ?? false,
          }),
      encode: noEncode,
    },
  )

// Defaults are filled in by the transformation of the whole file: a field with a default would make its mapping a
// transformation, on which the mapping's own message ("must be a mapping") no longer applies.

/** The config's name for a field of `Validation.check`, as a path (`spec.audiences[0]` is `audiences`, `0`). */
const configField = (field: string): Array<PropertyKey> => {
  const named = field === "name"
    ? "serviceAccount"
    : field.replace(/^spec\.boundObjectRef\./, "boundObject.").replace(/^spec\./, "")
  return [...named.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => m[2] !== undefined ? Number(m[2]) : m[1]!)
}

/**
 * A declared token with the defaults applied, its TokenRequest built and checked by the core's own rules (at load
 * time, so that a request the manager would refuse stops the agent here), and its cache key.
 */
const tokenSpec = (
  token: Schema.Schema.Type<ReturnType<typeof Token>>,
  defaults: Schema.Schema.Type<typeof Defaults> = {},
): { readonly spec: TokenSpec; readonly problem: InvalidTokenRequest | undefined } => {
  const audiences = token.audiences ?? defaults.audiences
  const expirationSeconds = token.expirationSeconds ?? defaults.expirationSeconds ?? 3600
  const boundObject = token.boundObject
  const request: TokenRequest = {
    spec: {
      ...(audiences !== undefined ? { audiences } : {}),
      expirationSeconds,
      ...(boundObject !== undefined
        ? {
          boundObjectRef: {
            kind: boundObject.kind,
            apiVersion: "v1",
            name: boundObject.name,
            ...(boundObject.uid !== undefined ? { uid: boundObject.uid } : {}),
          },
        }
        : {}),
    },
  }
  const file = token.file
  return {
    spec: {
      name: token.name,
      namespace: token.namespace,
      serviceAccount: token.serviceAccount,
      audiences,
      expirationSeconds,
      jitter: token.jitter ?? defaults.jitter ?? 0.1,
      boundObject,
      file: file === undefined
        ? undefined
        : { path: file.path, mode: file.mode ?? defaults.mode ?? 0o600, owner: file.owner, group: file.group },
      hooks: token.hooks,
      request,
      key: cacheKey(token.serviceAccount, token.namespace, request),
    },
    problem: Validation.check(token.namespace, token.serviceAccount, request),
  }
}

/**
 * The configuration file `file` decoded into an {@link AgentConfig}: relative paths resolve against its directory,
 * and two tokens may not share a name or a file.
 */
export const AgentConfigFrom = (file: string, path: Path.Path): Schema.Schema<AgentConfig, ConfigFile> => {
  const place: Place = { directory: path.dirname(file), path }
  return Schema.transformOrFail(
    Mapping({
      cluster: opt(Cluster(place)),
      defaults: opt(Defaults),
      tokens: Schema.Array(Token(place)).annotations({ message: () => "must be a list of tokens" }),
      endpoint: opt(Endpoint(place)),
      budget: opt(Budget),
      log: opt(Log),
    }, "must be a mapping with a list of tokens"),
    Built<AgentConfig>("AgentConfig"),
    {
      strict: true,
      decode: (document, _, ast) => {
        const issues: Array<ParseResult.ParseIssue> = []
        const names = new Set<string>()
        const sinks = new Map<string, string>()
        const tokens = document.tokens.map((token, i) => {
          const at = (...field: Array<PropertyKey>) => ["tokens", i, ...field]
          if (names.has(token.name)) issues.push(refuse(ast, document, at("name"), "is declared twice"))
          names.add(token.name)
          const { problem, spec } = tokenSpec(token, document.defaults)
          if (problem !== undefined) {
            issues.push(refuse(ast, document, at(...configField(problem.field)), problem.detail))
          }
          if (spec.file !== undefined) {
            const other = sinks.get(spec.file.path)
            if (other !== undefined) {
              issues.push(refuse(ast, document, at("file", "path"), `is also the file of ${other}`))
            }
            sinks.set(spec.file.path, token.name)
          }
          return spec
        })
        return verdict(ast, document, issues, {
          file,
          cluster: document.cluster ?? { kubeconfig: undefined, context: undefined, inCluster: false },
          tokens,
          endpoint: document.endpoint,
          budget: {
            qps: document.budget?.qps ?? 5,
            burst: document.budget?.burst ?? 10,
            maxInFlight: document.budget?.maxInFlight ?? defaultMaxInFlight,
          },
          log: { format: document.log?.format ?? "text", level: document.log?.level ?? "info" },
        })
      },
      encode: noEncode,
    },
  )
}
