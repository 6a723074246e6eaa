/**
 * Fault injection for the development API server: added latency, a status code with `Retry-After`, a dropped
 * connection, a malformed body; for the next N matching requests or a fraction of them, optionally only under a path
 * prefix. The admin API (`/devserver/`) is never faulted.
 *
 * @module
 */
import * as Schema from "effect/Schema"

/** One fault. Without `count` and `fraction` it applies to every matching request until cleared. */
export interface FaultSpec {
  /** Answer with this status code (a Status body, reason from the code) instead of handling the request. */
  readonly status?: number
  /** Adds `Retry-After` and `details.retryAfterSeconds` to a `status` fault. */
  readonly retryAfterSeconds?: number
  /** Waits this long (real time) before handling or faulting the request. */
  readonly latencyMillis?: number
  /** Destroys the connection without answering. */
  readonly drop?: boolean
  /** Answers 201/200 with a body that is not what the client expects (`body`, default `{"kind":`). */
  readonly malformed?: boolean
  /** The body of a `malformed` (or `status`) fault. */
  readonly body?: string
  /** The content type of `body` (default `application/json`). */
  readonly contentType?: string
  /** Applies to the next N matching requests only. */
  readonly count?: number
  /** Applies to this fraction (0–1) of matching requests. */
  readonly fraction?: number
  /** Applies only to paths starting with this prefix. */
  readonly pathPrefix?: string
  /** Applies only to this HTTP method. */
  readonly method?: string
}

/** The Schema of a fault, for the admin API. */
export const FaultSpecSchema: Schema.Schema<FaultSpec> = Schema.Struct({
  status: Schema.optionalWith(Schema.Int.pipe(Schema.between(100, 599)), { exact: true }),
  retryAfterSeconds: Schema.optionalWith(Schema.NonNegativeInt, { exact: true }),
  latencyMillis: Schema.optionalWith(Schema.NonNegative, { exact: true }),
  drop: Schema.optionalWith(Schema.Boolean, { exact: true }),
  malformed: Schema.optionalWith(Schema.Boolean, { exact: true }),
  body: Schema.optionalWith(Schema.String, { exact: true }),
  contentType: Schema.optionalWith(Schema.String, { exact: true }),
  count: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { exact: true }),
  fraction: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1)), { exact: true }),
  pathPrefix: Schema.optionalWith(Schema.String, { exact: true }),
  method: Schema.optionalWith(Schema.String, { exact: true }),
})

/** The fault registry. */
export interface Faults {
  /** Adds a fault; faults are consulted in the order they were added. */
  readonly inject: (spec: FaultSpec) => void
  /** Removes every fault. */
  readonly clear: () => void
  /** The faults still active (counts reflect what is left). */
  readonly active: () => ReadonlyArray<FaultSpec>
  /** How many requests were faulted so far. */
  readonly injected: () => number
  /** Picks the fault for a request (using up one of its `count`), or `undefined`. */
  readonly take: (method: string, path: string) => FaultSpec | undefined
}

/** Paths that are never faulted. */
export const adminPrefix = "/devserver/"

/** Makes an empty registry; `random` decides fractions (0 ≤ x < 1). */
export const make = (random: () => number = Math.random): Faults => {
  let faults: Array<{ spec: FaultSpec; left: number }> = []
  let injected = 0
  return {
    inject: (spec) => {
      faults = [...faults, { spec, left: spec.count ?? Infinity }]
    },
    clear: () => {
      faults = []
    },
    active: () => faults.map(({ spec, left }) => (left === Infinity ? spec : { ...spec, count: left })),
    injected: () => injected,
    take: (method, path) => {
      if (path.startsWith(adminPrefix)) return undefined
      for (const entry of faults) {
        const { spec } = entry
        if (spec.pathPrefix !== undefined && !path.startsWith(spec.pathPrefix)) continue
        if (spec.method !== undefined && spec.method.toUpperCase() !== method) continue
        if (spec.fraction !== undefined && random() >= spec.fraction) continue
        entry.left--
        if (entry.left <= 0) faults = faults.filter((f) => f !== entry)
        injected++
        return spec
      }
      return undefined
    },
  }
}
