/**
 * The error of the development API server's setup: a bad state file, keys or certificates that cannot be made, a port
 * that cannot be bound, a kubeconfig that cannot be written.
 *
 * @module
 */
import * as ErrorBase from "../../core/ErrorBase.ts"

/** What went wrong while starting or configuring the server. */
export type DevServerErrorReason = "State" | "Pki" | "Keys" | "Listen" | "Kubeconfig" | "Options"

/** The fields of a {@link DevServerError}. */
export interface DevServerErrorFields {
  /** What kind of problem it is. */
  readonly reason: DevServerErrorReason
  /** What went wrong. */
  readonly description: string
}

const what: Record<DevServerErrorReason, string> = {
  State: "invalid state",
  Pki: "cannot create certificates",
  Keys: "cannot create the signing key",
  Listen: "cannot listen",
  Kubeconfig: "cannot write the kubeconfig",
  Options: "invalid option",
}

/** The typed base class of {@link DevServerError}: `dev-server: <what>: <description>`. */
export const DevServerErrorBase: ErrorBase.Constructor<"DevServerError", DevServerErrorFields> = ErrorBase.make(
  "DevServerError",
  (e) => `dev-server: ${what[e.reason]}: ${e.description}`,
)

/** Starting or configuring the development API server failed. */
export class DevServerError extends DevServerErrorBase {}
