/**
 * The values of the agent's configuration file as Effect Schemas, each with a message that says what was expected
 * without repeating the value (Schema's default messages quote it, and a union's members would each quote it again),
 * and the sections that need nothing but their own fields. `ConfigSections.ts` and `ConfigSchema.ts` assemble them.
 *
 * @internal
 * @module
 */
import * as Schema from "effect/Schema"

/** An optional field: absent or a value, never `undefined`. */
export const opt = <S extends Schema.Schema.Any>(schema: S): Schema.optionalWith<S, { exact: true }> =>
  Schema.optionalWith(schema, { exact: true })

/** A mapping of the given fields; a value of another type is refused without being repeated. */
export const Mapping = <F extends Schema.Struct.Fields>(fields: F, message = "must be a mapping"): Schema.Struct<F> =>
  Schema.Struct(fields).annotations({ message: () => message })

/** One of a few words: the message lists them (`override`, so that no member's own message quotes the value). */
export const OneOf = <const L extends readonly [string, ...Array<string>]>(...values: L): Schema.Literal<[...L]> =>
  Schema.Literal(...values).annotations({
    message: () => ({
      message: `must be ${values.length === 1 ? values[0] : `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`}`,
      override: true,
    }),
  })

/** `true` or `false`. */
export const Bool: Schema.Schema<boolean> = Schema.Boolean.annotations({ message: () => "must be true or false" })

/** A non-empty string. */
export const NonEmpty: Schema.Schema<string> = Schema.String.annotations({ message: () => "must be a string" }).pipe(
  Schema.filter((s) => s.length > 0, { message: () => "must not be empty" }),
)

/** A file mode written as a string of octal digits. A YAML/JSON number is refused: 0600 would be read as 600 or 384. */
export const Mode: Schema.Schema<string> = Schema.String.annotations({
  message: () => 'must be a string of octal digits such as "0600" (quote it: a number is ambiguous)',
}).pipe(Schema.filter((s) => /^0?[0-7]{3}$/.test(s), { message: () => 'must be octal such as "0600" or "640"' }))

/** A token lifetime: whole seconds, from 600 to 2^32. */
export const Seconds: Schema.Schema<number> = Schema.Number.annotations({
  message: () => "must be a number of seconds",
}).pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 600 && n <= 4294967296, {
    message: () => "must be a whole number of seconds between 600 and 4294967296",
  }),
)

/** A list of audiences. */
export const Audiences: Schema.Schema<ReadonlyArray<string>> = Schema.Array(NonEmpty).annotations({
  message: () => "must be a list of strings",
})

/** A numeric id or a user/group name. */
export const Principal: Schema.Schema<number | string> = Schema.Union(
  Schema.Number.pipe(Schema.filter((n) => Number.isInteger(n) && n >= 0, { message: () => "must be an id >= 0" })),
  NonEmpty,
).annotations({ message: () => ({ message: "must be a numeric id >= 0 or a non-empty name", override: true }) })

/** The largest fraction of the lifetime a refresh is moved earlier by. */
export const Jitter: Schema.Schema<number> = Schema.Number.annotations({
  message: () => "must be a fraction of the lifetime",
}).pipe(
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

/** A file mode: octal digits as written, the permission bits once decoded. */
export const FileMode: Schema.Schema<number, string> = Schema.transform(Mode, Schema.Number, {
  strict: true,
  decode: (digits) => parseInt(digits, 8),
  encode: (bits) => bits.toString(8).padStart(4, "0"),
})

/** The object a token is bound to. */
export const BoundObject: Schema.Schema<
  { readonly kind: "Pod" | "Secret" | "Node"; readonly name: string; readonly uid?: string }
> = Mapping({
  kind: OneOf("Pod", "Secret", "Node"),
  name: NonEmpty,
  uid: opt(NonEmpty),
})

/** A token's name is one path segment of the endpoint (`/v1/tokens/NAME`), which refuses slashes and dot segments. */
export const TokenName: Schema.Schema<string> = NonEmpty.pipe(
  Schema.filter((name) => !/[/\\]/.test(name) && name !== "." && name !== "..", {
    message: () => "must not contain / or \\ nor be . or .. (it is a path segment of the endpoint)",
  }),
)

/** A positive number of `what`. */
export const Rate = (what: string): Schema.Schema<number> =>
  Schema.Number.annotations({ message: () => `must be a number of ${what}` }).pipe(
    Schema.filter((n) => n > 0 && Number.isFinite(n), { message: () => "must be greater than 0" }),
  )

/** A positive whole number of `what`. */
export const Count = (what: string): Schema.Schema<number> =>
  Schema.Number.annotations({ message: () => `must be a whole number of ${what}` }).pipe(
    Schema.filter((n) => Number.isInteger(n) && n > 0, { message: () => "must be a whole number greater than 0" }),
  )

/** The `defaults` section: what a token does not say. */
export const Defaults: Schema.Schema<
  {
    readonly audiences?: ReadonlyArray<string>
    readonly expirationSeconds?: number
    readonly mode?: number
    readonly jitter?: number
  },
  {
    readonly audiences?: ReadonlyArray<string>
    readonly expirationSeconds?: number
    readonly mode?: string
    readonly jitter?: number
  }
> = Mapping({
  audiences: opt(Audiences),
  expirationSeconds: opt(Seconds),
  mode: opt(FileMode),
  jitter: opt(Jitter),
})

/** The `budget` section: the limits on TokenRequest calls. */
export const Budget: Schema.Schema<
  { readonly qps?: number; readonly burst?: number; readonly maxInFlight?: number }
> = Mapping({
  qps: opt(Rate("requests per second")),
  burst: opt(Rate("requests")),
  maxInFlight: opt(Count("requests")),
})

/** The `log` section. */
export const Log: Schema.Schema<
  { readonly format?: "json" | "text"; readonly level?: "debug" | "info" | "warning" | "error" }
> = Mapping({
  format: opt(OneOf("json", "text")),
  level: opt(OneOf("debug", "info", "warning", "error")),
})

/** The file as it is written (every field optional but `tokens`, modes as octal strings). */
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
      readonly owner?: number | string
      readonly group?: number | string
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
