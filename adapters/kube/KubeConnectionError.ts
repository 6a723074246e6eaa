/**
 * The error of loading a Kubernetes connection or its credentials.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { KubeConnectionError } from "@sa-token/manager/kube"
 *
 * const error = new KubeConnectionError.KubeConnectionError({
 *   reason: "NotFound",
 *   source: "kubeconfig",
 *   detail: 'context "prod" not found',
 * })
 * assert.equal(error.message, 'kubeconfig: context "prod" not found')
 * ```
 *
 * @module
 */
import * as ErrorBase from "../../core/ErrorBase.ts"

/** What went wrong while loading a connection or its credentials. */
export type KubeConnectionErrorReason = "NotFound" | "Invalid" | "ReadFailed" | "Credentials"

/** The fields of a {@link KubeConnectionError}; its `detail` never holds a token. */
export interface KubeConnectionErrorFields extends ErrorBase.Reasoned<KubeConnectionErrorReason> {
  /** Where the problem is: a kubeconfig path, `in-cluster`, a context or an exec plugin. */
  readonly source: string
}

const KubeConnectionErrorBase: ErrorBase.Constructor<"KubeConnectionError", KubeConnectionErrorFields> = ErrorBase.make(
  "KubeConnectionError",
  (e) => `${e.source}: ${e.detail}`,
)

/** The connection could not be loaded, or its credentials could not be obtained. */
export class KubeConnectionError extends KubeConnectionErrorBase {}
