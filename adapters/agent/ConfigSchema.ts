/**
 * The shape of the agent's configuration file as it is written (YAML or JSON), as Effect Schemas. Unknown keys are
 * rejected by the decoder in `Config.ts`; values are checked here, with messages that say what was expected without
 * repeating the value (every node has its own message: Schema's default ones quote the value, and a union's members
 * would each quote it again). Defaults are filled in and paths resolved by `Config.ts`.
 *
 * @internal
 * @module
 */
import * as Schema from "effect/Schema"

const opt = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** A mapping of the given fields; a value of another type is refused without being repeated. */
const Mapping = <F extends Schema.Struct.Fields>(fields: F, message = "must be a mapping"): Schema.Struct<F> =>
  Schema.Struct(fields).annotations({ message: () => message })

/** One of a few words: the message lists them (`override`, so that no member's own message quotes the value). */
const OneOf = <const L extends readonly [string, ...Array<string>]>(...values: L) =>
  Schema.Literal(...values).annotations({
    message: () => ({
      message: `must be ${values.length === 1 ? values[0] : `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`}`,
      override: true,
    }),
  })

const Bool = Schema.Boolean.annotations({ message: () => "must be true or false" })

const NonEmpty = Schema.String.annotations({ message: () => "must be a string" }).pipe(
  Schema.filter((s) => s.length > 0, { message: () => "must not be empty" }),
)

/** A file mode written as a string of octal digits. A YAML/JSON number is refused: 0600 would be read as 600 or 384. */
export const Mode: Schema.Schema<string> = Schema.String.annotations({
  message: () => 'must be a string of octal digits such as "0600" (quote it: a number is ambiguous)',
}).pipe(Schema.filter((s) => /^0?[0-7]{3}$/.test(s), { message: () => 'must be octal such as "0600" or "640"' }))

const Seconds = Schema.Number.annotations({ message: () => "must be a number of seconds" }).pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 600 && n <= 4294967296, {
    message: () => "must be a whole number of seconds between 600 and 4294967296",
  }),
)

const Audiences = Schema.Array(NonEmpty).annotations({ message: () => "must be a list of strings" })

/** A numeric id or a user/group name. */
const Principal = Schema.Union(
  Schema.Number.pipe(Schema.filter((n) => Number.isInteger(n) && n >= 0, { message: () => "must be an id >= 0" })),
  NonEmpty,
).annotations({ message: () => ({ message: "must be a numeric id >= 0 or a non-empty name", override: true }) })

const Jitter = Schema.Number.annotations({ message: () => "must be a fraction of the lifetime" }).pipe(
  Schema.filter((n) => n >= 0 && n <= 0.5, { message: () => "must be between 0 and 0.5" }),
)

/** Signals a hook may send. */
export const signalNames: readonly ["SIGHUP", "SIGINT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGQUIT", "SIGWINCH"] = [
  "SIGHUP",
  "SIGINT",
  "SIGTERM",
  "SIGUSR1",
  "SIGUSR2",
  "SIGQUIT",
  "SIGWINCH",
] as const

const FileSink = Mapping({
  path: NonEmpty,
  mode: opt(Mode),
  owner: opt(Principal),
  group: opt(Principal),
})

const Hooks = Mapping({
  command: opt(
    Schema.Array(Schema.String.annotations({ message: () => "must be a string" })).annotations({
      message: () => "must be a list of strings (argv)",
    }).pipe(
      Schema.filter((argv) => argv.length > 0 && argv[0]!.length > 0, { message: () => "must name a program" }),
    ),
  ),
  signal: opt(Mapping({
    pidFile: NonEmpty,
    signal: opt(OneOf(...signalNames)),
  })),
})

const BoundObject = Mapping({
  kind: OneOf("Pod", "Secret", "Node"),
  name: NonEmpty,
  uid: opt(NonEmpty),
})

/** A token's name is one path segment of the endpoint (`/v1/tokens/NAME`), which refuses slashes and dot segments. */
const TokenName = NonEmpty.pipe(
  Schema.filter((name) => !/[/\\]/.test(name) && name !== "." && name !== "..", {
    message: () => "must not contain / or \\ nor be . or .. (it is a path segment of the endpoint)",
  }),
)

const Token = Mapping({
  name: TokenName,
  namespace: NonEmpty,
  serviceAccount: NonEmpty,
  audiences: opt(Audiences),
  expirationSeconds: opt(Seconds),
  jitter: opt(Jitter),
  boundObject: opt(BoundObject),
  file: opt(FileSink),
  hooks: opt(Hooks),
})

const Endpoint = Mapping({
  unix: opt(Mapping({ path: NonEmpty, mode: opt(Mode) })),
  tcp: opt(Mapping({
    address: NonEmpty,
    allowNonLoopback: opt(Bool),
    bearerToken: opt(NonEmpty),
  })),
})

const Rate = (what: string) =>
  Schema.Number.annotations({ message: () => `must be a number of ${what}` }).pipe(
    Schema.filter((n) => n > 0 && Number.isFinite(n), { message: () => "must be greater than 0" }),
  )

const Count = (what: string) =>
  Schema.Number.annotations({ message: () => `must be a whole number of ${what}` }).pipe(
    Schema.filter((n) => Number.isInteger(n) && n > 0, { message: () => "must be a whole number greater than 0" }),
  )

type Principal = number | string

/** The decoded file, before defaults and path resolution (every field as written). */
export interface ConfigFile {
  readonly cluster?: { readonly kubeconfig?: string; readonly context?: string; readonly inCluster?: boolean }
  readonly defaults?: {
    readonly audiences?: ReadonlyArray<string>
    readonly expirationSeconds?: number
    readonly mode?: string
    readonly jitter?: number
  }
  readonly tokens: ReadonlyArray<{
    readonly name: string
    readonly namespace: string
    readonly serviceAccount: string
    readonly audiences?: ReadonlyArray<string>
    readonly expirationSeconds?: number
    readonly jitter?: number
    readonly boundObject?: { readonly kind: "Pod" | "Secret" | "Node"; readonly name: string; readonly uid?: string }
    readonly file?: {
      readonly path: string
      readonly mode?: string
      readonly owner?: Principal
      readonly group?: Principal
    }
    readonly hooks?: {
      readonly command?: ReadonlyArray<string>
      readonly signal?: { readonly pidFile: string; readonly signal?: (typeof signalNames)[number] }
    }
  }>
  readonly endpoint?: {
    readonly unix?: { readonly path: string; readonly mode?: string }
    readonly tcp?: { readonly address: string; readonly allowNonLoopback?: boolean; readonly bearerToken?: string }
  }
  readonly budget?: { readonly qps?: number; readonly burst?: number; readonly maxInFlight?: number }
  readonly log?: { readonly format?: "json" | "text"; readonly level?: "debug" | "info" | "warning" | "error" }
}

/** The whole file. */
export const ConfigFile: Schema.Schema<ConfigFile> = Mapping({
  cluster: opt(Mapping({
    kubeconfig: opt(NonEmpty),
    context: opt(NonEmpty),
    inCluster: opt(Bool),
  })),
  defaults: opt(Mapping({
    audiences: opt(Audiences),
    expirationSeconds: opt(Seconds),
    mode: opt(Mode),
    jitter: opt(Jitter),
  })),
  tokens: Schema.Array(Token).annotations({ message: () => "must be a list of tokens" }),
  endpoint: opt(Endpoint),
  budget: opt(Mapping({
    qps: opt(Rate("requests per second")),
    burst: opt(Rate("requests")),
    maxInFlight: opt(Count("requests")),
  })),
  log: opt(Mapping({
    format: opt(OneOf("json", "text")),
    level: opt(OneOf("debug", "info", "warning", "error")),
  })),
}, "must be a mapping with a list of tokens")
