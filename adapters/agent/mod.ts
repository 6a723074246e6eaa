/**
 * The agent and its command-line interface, runtime-neutral: it keeps declared service-account tokens fresh, writes
 * them to files atomically, serves them on a local endpoint, emits kubectl ExecCredentials and exposes health and
 * metrics. A runtime adapter (`@sa-token/manager/deno`, `/node` or `/bun`) provides the platform services.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { Config } from "@sa-token/manager/agent"
 * import * as Either from "effect/Either"
 * import * as Path from "@effect/platform/Path"
 * import * as Effect from "effect/Effect"
 *
 * const document = {
 *   tokens: [{ name: "vault", namespace: "default", serviceAccount: "builder", audiences: ["vault"], file: { path: "tokens/vault" } }],
 * }
 * const config = Effect.runSync(
 *   Effect.map(Path.Path, (path) => Config.decode(document, "/etc/sa-token/agent.yaml", path)).pipe(Effect.provide(Path.layer)),
 * )
 * assert.ok(Either.isRight(config))
 * assert.equal(config.right.tokens[0]!.file!.path, "/etc/sa-token/tokens/vault")
 * ```
 *
 * @module
 */
export * as Agent from "./Agent.ts"
export * as AgentMetrics from "./AgentMetrics.ts"
export * as AgentState from "./AgentState.ts"
export * as Budget from "./Budget.ts"
export * as Config from "./Config.ts"
export * as ConfigError from "./ConfigError.ts"
export * as Endpoint from "./Endpoint.ts"
export * as EndpointClient from "./EndpointClient.ts"
export * as EndpointGuard from "./EndpointGuard.ts"
export * as EndpointRoutes from "./EndpointRoutes.ts"
export * as ExecCredential from "./ExecCredential.ts"
export * as FileSink from "./FileSink.ts"
export * as Hooks from "./Hooks.ts"
export * as Metrics from "./Metrics.ts"
export * as SealedReply from "./SealedReply.ts"
export * as Scheduler from "./Scheduler.ts"
