/**
 * The Schema transformation that decodes the agent's configuration file (its fields are in `ConfigFields.ts`, its
 * sections in `ConfigSections.ts`) into an `AgentConfig`: defaults filled in, the core's request checks and the rules
 * across tokens. Every problem is a parse issue at its field's path, with a message that never repeats the value;
 * unknown keys are rejected by the decoder in `Config.ts`.
 *
 * @internal
 * @module
 */
import type * as Path from "@effect/platform/Path"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { cacheKey } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import type { InvalidTokenRequest } from "../../core/TokenError.ts"
import * as Validation from "../../core/Validation.ts"
import { defaultMaxInFlight } from "./Budget.ts"
import type { AgentConfig, TokenSpec } from "./Config.ts"
import type { ConfigFile } from "./ConfigFields.ts"
import { Budget, Defaults, Log, Mapping, opt } from "./ConfigFields.ts"
import { Built, Cluster, Endpoint, noEncode, refuse, Token, verdict } from "./ConfigSections.ts"
import type { Place } from "./ConfigSections.ts"

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
