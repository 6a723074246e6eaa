/**
 * The development API server: a local HTTPS server with kube-apiserver's TokenRequest semantics, discovery, OIDC and
 * JWKS, TokenReview and SelfSubjectReview, good enough for real kubectl. `start` runs it in the caller's scope and
 * returns the in-process API tests use to change state and inject faults.
 *
 * Token times come from Effect's `Clock` in the scope that started the server (so a TestClock drives them); fault
 * latency is real time.
 *
 * @example Ask the in-process server for a token with the Kubernetes adapter
 * ```ts
 * import assert from "node:assert/strict"
 * import { mkdtempSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * import * as DevServer from "@sa-token/manager/devserver"
 * import * as Runtime from "@sa-token/manager/deno"
 * import { KubeConnection, KubeTokenFetcher } from "@sa-token/manager/kube"
 * import { TokenFetcher } from "@sa-token/manager"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 *
 * const kubeconfig = join(mkdtempSync(join(tmpdir(), "devserver-")), "kubeconfig")
 * const expiration = await Effect.gen(function* () {
 *   const server = yield* DevServer.start({ maxTokenExpirationSeconds: 3600, kubeconfigOut: kubeconfig })
 *   server.state.upsertServiceAccount("default", "builder")
 *   const fetcher = KubeTokenFetcher.layer().pipe(
 *     Layer.provide(KubeConnection.layerKubeconfig({ kubeconfig })),
 *     Layer.provide(Runtime.layer),
 *   )
 *   const response = yield* Effect.flatMap(
 *     TokenFetcher.TokenFetcher,
 *     (tokens) => tokens.fetch("default", "builder", { spec: { expirationSeconds: 7200 } }),
 *   ).pipe(Effect.provide(fetcher))
 *   assert.equal(server.stats.tokensIssued, 1)
 *   return response.spec.expirationSeconds
 * }).pipe(Effect.scoped, Effect.runPromise)
 * assert.equal(expiration, 3600) // capped by --service-account-max-token-expiration
 * ```
 *
 * @module
 */
export { DevServerError, DevServerErrorBase } from "./DevServerError.ts"
export type { DevServerErrorFields, DevServerErrorReason } from "./DevServerError.ts"
export type { Faults, FaultSpec } from "./Faults.ts"
export type { DevState, StateEvent, StoredObject, StoredPod, StoredToken } from "./State.ts"
export type {
  NamespaceInput,
  NodeInput,
  ObjectInput,
  PodInput,
  RuleInput,
  StateEntries,
  StateInput,
  StaticTokenInput,
  UserInput,
} from "./StateFile.ts"
export * from "./DevServer.ts"
