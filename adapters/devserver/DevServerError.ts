/**
 * The error of the development API server's setup: a bad state file, keys or certificates that cannot be made, a port
 * that cannot be bound, a kubeconfig that cannot be written.
 *
 * @module
 */
import type * as Cause from "effect/Cause"
import * as Data from "effect/Data"

/** What went wrong while starting or configuring the server. */
export type DevServerErrorReason = "State" | "Pki" | "Keys" | "Listen" | "Kubeconfig" | "Options"

/** The fields of a {@link DevServerError}. */
export interface DevServerErrorFields {
  /** What kind of problem it is. */
  readonly reason: DevServerErrorReason
  /** What went wrong. */
  readonly description: string
}

/** The typed base class of {@link DevServerError} (an Effect `Data.Error` with its fields). */
export const DevServerErrorBase: new (args: DevServerErrorFields) => Cause.YieldableError & DevServerErrorFields =
  Data.Error

const what: Record<DevServerErrorReason, string> = {
  State: "invalid state",
  Pki: "cannot create certificates",
  Keys: "cannot create the signing key",
  Listen: "cannot listen",
  Kubeconfig: "cannot write the kubeconfig",
  Options: "invalid option",
}

/** Starting or configuring the development API server failed. */
export class DevServerError extends DevServerErrorBase {
  /** The tag, for `Effect.catchTag`. */
  readonly _tag = "DevServerError" as const
  /** `dev-server: <what>: <description>`. */
  override get message(): string {
    return `dev-server: ${what[this.reason]}: ${this.description}`
  }
}
