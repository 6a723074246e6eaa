/**
 * The `meta/v1` Status object that a Kubernetes API server returns for every error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { Status } from "@sa-token/manager"
 * import * as Schema from "effect/Schema"
 *
 * const status = Schema.decodeUnknownSync(Status.Status)({
 *   kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure",
 *   message: 'serviceaccounts "x" not found', reason: "NotFound", code: 404,
 *   details: { name: "x", kind: "serviceaccounts" },
 * })
 * assert.ok(status.reason === "NotFound")
 * ```
 *
 * @module
 */
import * as Schema from "effect/Schema"

/** One field-level cause of an `Invalid` status. */
export interface StatusCause {
  /** A machine-readable cause, such as `FieldValueInvalid`. */
  readonly reason?: string
  /** A human-readable description of the cause. */
  readonly message?: string
  /** The path of the offending field, such as `spec.expirationSeconds`. */
  readonly field?: string
}

/** Extra information about the object a status is about. */
export interface StatusDetails {
  /** The name of the object the status is about. */
  readonly name?: string
  /** The API group of that object. */
  readonly group?: string
  /** The kind (or resource) of that object. */
  readonly kind?: string
  /** The UID of that object. */
  readonly uid?: string
  /** Field-level causes, for `Invalid`. */
  readonly causes?: ReadonlyArray<StatusCause>
  /** How long to wait before retrying, for `TooManyRequests` and some server errors. */
  readonly retryAfterSeconds?: number
}

/** A `meta/v1` Status. */
export interface Status {
  /** Always `Status`. */
  readonly kind: "Status"
  /** Always `v1`. */
  readonly apiVersion: string
  /** List metadata (empty on errors). */
  readonly metadata?: { readonly resourceVersion?: string }
  /** `Success` or `Failure`. */
  readonly status?: "Success" | "Failure"
  /** A human-readable description of the error. */
  readonly message?: string
  /** A machine-readable reason, such as `NotFound` or `Invalid`. */
  readonly reason?: string
  /** Extra information about the object. */
  readonly details?: StatusDetails
  /** The HTTP status code. */
  readonly code?: number
}

const opt = <S extends Schema.Schema.Any>(s: S) => Schema.optionalWith(s, { exact: true })

const StatusCauseSchema = Schema.Struct({
  reason: opt(Schema.String),
  message: opt(Schema.String),
  field: opt(Schema.String),
})

/** Decodes and encodes a `meta/v1` Status (unknown fields are ignored). */
export const Status: Schema.Schema<Status> = Schema.Struct({
  kind: Schema.Literal("Status"),
  apiVersion: Schema.String,
  metadata: opt(Schema.Struct({ resourceVersion: opt(Schema.String) })),
  status: opt(Schema.Literal("Success", "Failure")),
  message: opt(Schema.String),
  reason: opt(Schema.String),
  details: opt(Schema.Struct({
    name: opt(Schema.String),
    group: opt(Schema.String),
    kind: opt(Schema.String),
    uid: opt(Schema.String),
    causes: opt(Schema.Array(StatusCauseSchema)),
    retryAfterSeconds: opt(Schema.Number),
  })),
  code: opt(Schema.Number),
})

/** The fields of {@link failure} other than code, reason and message. */
export interface FailureOptions {
  /** Extra information about the object. */
  readonly details?: StatusDetails
}

/** Builds a `Failure` status as an API server would. */
export const failure = (code: number, reason: string, message: string, options?: FailureOptions): Status => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message,
  reason,
  ...(options?.details ? { details: options.details } : {}),
  code,
})
