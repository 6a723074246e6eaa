/**
 * The sections of the agent's configuration file that depend on where the file is (token files, hooks, the endpoint,
 * the cluster, and the token that holds the first two), as Schema transformations: relative paths resolved against the
 * file's directory (a token file's must stay inside it), the endpoint and cluster chosen. Also the tools they are
 * built with, which `ConfigSchema.ts` shares: failing at a field's path with a message that never repeats the value.
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
import type { ClusterSpec, EndpointSpec, FileSinkSpec, HooksSpec } from "./Config.ts"
import {
  Audiences,
  Bool,
  BoundObject,
  FileMode,
  Jitter,
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
export interface Place {
  readonly directory: string
  readonly path: Path.Path
}

/** A value built by a transformation below: it was checked while being built, so it is taken as it is. */
export const Built = <A>(identifier: string): Schema.Schema<A> =>
  Schema.declare((_: unknown): _ is A => true, { identifier })

/** Fails at `path` (below the node being decoded) with `message`, never with the value. */
export const refuse = (
  ast: SchemaAST.AST,
  actual: unknown,
  path: ReadonlyArray<PropertyKey>,
  message: string,
): ParseResult.ParseIssue => {
  const issue = new ParseResult.Type(ast, actual, message)
  return Arr.isNonEmptyReadonlyArray(path) ? new ParseResult.Pointer(path, actual, issue) : issue
}

/** Fails with every problem found, or succeeds. */
export const verdict = <A>(
  ast: SchemaAST.AST,
  actual: unknown,
  issues: ReadonlyArray<ParseResult.ParseIssue>,
  value: A,
): Effect.Effect<A, ParseResult.ParseIssue> =>
  Arr.isNonEmptyReadonlyArray(issues)
    ? ParseResult.fail(new ParseResult.Composite(ast, actual, issues))
    : ParseResult.succeed(value)

/** The resolved values are decoded only: encoding one back to a file is not supported. */
export const noEncode = (value: unknown, _options: unknown, ast: SchemaAST.AST) =>
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
export const Token = (place: Place) =>
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
export const Endpoint = (place: Place) =>
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
export const Cluster = (place: Place) =>
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
