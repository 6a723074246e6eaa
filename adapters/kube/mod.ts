/**
 * The Kubernetes adapter: the core `TokenFetcher` over the TokenRequest API, and the connection it uses, loaded from
 * kubeconfig or from a pod's in-cluster service-account files the way kubectl and client-go load them. The HTTPS
 * client comes from a runtime adapter (`@sa-token/manager/deno`, `/node` or `/bun`) through `TlsHttpClient`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { KubeConnection, KubeTokenFetcher } from "@sa-token/manager/kube"
 * import { TokenManager } from "@sa-token/manager"
 * import * as Layer from "effect/Layer"
 *
 * // kubeconfig (KUBECONFIG, ~/.kube/config) or in-cluster credentials, whichever kubectl would pick
 * const tokens = TokenManager.layer.pipe(
 *   Layer.provide(KubeTokenFetcher.layer()),
 *   Layer.provide(KubeConnection.layer()),
 * )
 * assert.ok(Layer.isLayer(tokens))
 * ```
 *
 * @module
 */
export * as ExecCredentialWire from "./ExecCredentialWire.ts"
export * as ExecPlugin from "./ExecPlugin.ts"
export * as FileToken from "./FileToken.ts"
export * as InCluster from "./InCluster.ts"
export * as KubeConnection from "./KubeConnection.ts"
export * as KubeConnectionError from "./KubeConnectionError.ts"
export * as KubeResponse from "./KubeResponse.ts"
export * as KubeTokenFetcher from "./KubeTokenFetcher.ts"
export * as KubeWire from "./KubeWire.ts"
export * as Kubeconfig from "./Kubeconfig.ts"
