/**
 * The agent's local endpoint: a server of the {@link LocalHttp} port on a unix socket or a loopback TCP address,
 * serving {@link EndpointRoutes.route} while its scope is open.
 *
 * - A unix socket is created inside a fresh 0700 directory next to its final path, given its mode (0600 by default)
 *   and only then renamed into place, so nobody can connect before the mode applies, whatever the umask. Its directory
 *   must not let another user rename entries (owned by the agent's user or root, and not writable by others unless
 *   sticky), and a `.NAME.sat` planted by another user is refused, never followed.
 * - A TCP address must be loopback unless `allowNonLoopback` is set, and a TCP endpoint requires a bearer token: any
 *   local user can connect to a port, and a web page can reach it through DNS rebinding. A TCP request must also name
 *   the endpoint's own address in `Host` and carry no foreign `Origin` (403 otherwise), so that a page whose host name
 *   was rebound to 127.0.0.1 is refused even before the token is checked.
 * - The bearer token (optional on a unix socket, whose mode guards it) is compared in time that depends only on the
 *   length of what was presented. A client may instead prove that it holds the token without sending it, and get its
 *   answer sealed with it ({@link SealedReply}): what `exec-credential` does, so that whatever listens on the port
 *   while the agent is stopped learns nothing from it.
 * - Requests are limited in size (request target plus headers); a request with a body, or any method but GET, is
 *   refused.
 * - Connections are limited ({@link defaultConnectionLimits}): at most 128 open, 10 s to send a request's headers, 5 s
 *   idle between requests, 15 s per request; connections beyond the cap are closed as soon as they are accepted.
 *
 * @example Serve an agent state on a loopback port and ask it for a token
 * ```ts
 * import assert from "node:assert/strict"
 * import { AgentState, Endpoint, EndpointClient } from "@sa-token/manager/agent"
 * import { NodeLocalHttp } from "@sa-token/manager/platform"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 * import * as Option from "effect/Option"
 * import * as Redacted from "effect/Redacted"
 *
 * const status: AgentState.TokenStatus = {
 *   name: "vault",
 *   namespace: "default",
 *   serviceAccount: "builder",
 *   key: "builder/default",
 *   phase: "valid",
 *   refreshes: 1,
 *   failures: 0,
 * }
 * const response = {
 *   spec: {},
 *   status: { token: Redacted.make("a.b.c"), expirationTimestamp: new Date(Date.now() + 3600_000) },
 * }
 * const state = Layer.succeed(AgentState.AgentState, {
 *   list: Effect.succeed([status]),
 *   token: (name) => Effect.succeed(name === "vault" ? Option.some({ response, status }) : Option.none()),
 *   ready: Effect.succeed(true),
 * })
 * const token = await Effect.gen(function* () {
 *   const bearerToken = Redacted.make("a-long-random-secret")
 *   const endpoint = yield* Endpoint.make({ _tag: "Tcp", host: "127.0.0.1", port: 0, bearerToken })
 *   assert.ok(endpoint.address._tag === "Tcp")
 *   const answer = yield* EndpointClient.token(
 *     { _tag: "Tcp", host: "127.0.0.1", port: endpoint.address.port, bearerToken },
 *     "vault",
 *   )
 *   return Redacted.value(answer.status!.token)
 * }).pipe(Effect.scoped, Effect.provide([state, NodeLocalHttp.layer]), Effect.runPromise)
 * assert.equal(token, "a.b.c")
 * ```
 *
 * @module
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as ErrorBase from "../../core/ErrorBase.ts"
import * as Connections from "../platform/Connections.ts"
import * as LocalHttp from "../platform/LocalHttp.ts"
import type { AgentState } from "./AgentState.ts"
import * as EndpointRoutes from "./EndpointRoutes.ts"
import * as AgentMetrics from "./AgentMetrics.ts"
import { authorized, hostMatches, originAllowed } from "./EndpointGuard.ts"
import { isLoopback } from "./Loopback.ts"
import * as SealedReply from "./SealedReply.ts"

export { authorized, hostMatches, originAllowed } from "./EndpointGuard.ts"
export { isLoopback } from "./Loopback.ts"

/** Options shared by both kinds of endpoint. */
export interface CommonOptions {
  /** Required as `Authorization: Bearer <token>` on every request when set (always set on TCP). */
  readonly bearerToken?: Redacted.Redacted<string> | undefined
  /** The largest request (request target plus headers) accepted, in bytes. @default 8192 */
  readonly maxRequestBytes?: number | undefined
  /** Limits on connections; unset fields take {@link defaultConnectionLimits}. */
  readonly connections?: Connections.Limits | undefined
}

/** A unix-socket endpoint. */
export interface UnixConfig extends CommonOptions {
  /** The kind of endpoint. */
  readonly _tag: "Unix"
  /** The socket's path. */
  readonly path: string
  /** The socket's mode. @default 0o600 */
  readonly mode?: number | undefined
}

/** A TCP endpoint; loopback only unless `allowNonLoopback`, and always behind a bearer token. */
export interface TcpConfig extends CommonOptions {
  /** The kind of endpoint. */
  readonly _tag: "Tcp"
  /** Required as `Authorization: Bearer <token>` on every request: every local user can reach a TCP port. */
  readonly bearerToken: Redacted.Redacted<string>
  /** The host (a loopback address unless `allowNonLoopback`). */
  readonly host: string
  /** The port; 0 picks a free one (see {@link Endpoint.address}). */
  readonly port: number
  /** Allow a host that is not a loopback address. @default false */
  readonly allowNonLoopback?: boolean | undefined
}

/** Where the endpoint listens. */
export type EndpointConfig = UnixConfig | TcpConfig

/** Where a started endpoint listens (the actual port for TCP). */
export type EndpointAddress = LocalHttp.Address

/** A running endpoint. */
export interface Endpoint {
  /** Where it listens. */
  readonly address: EndpointAddress
}

/** The tag of the {@link Endpoint} service. */
export const Endpoint: Context.Tag<Endpoint, Endpoint> = Context.GenericTag<Endpoint>(
  "@sa-token/manager/agent/Endpoint",
)

/**
 * Why the endpoint could not start; `UnsafeDirectory` when another local user could redirect the socket (its directory
 * is theirs or writable by them, or they planted its temporary directory).
 */
export type EndpointErrorReason = "NonLoopback" | "InvalidConfig" | "AddressInUse" | "UnsafeDirectory" | "Listen"

/** The fields of an {@link EndpointError}. */
export interface EndpointErrorFields {
  /** Why it could not start. */
  readonly reason: EndpointErrorReason
  /** The address, as configured (`unix:PATH` or `HOST:PORT`). */
  readonly address: string
  /** What went wrong. */
  readonly detail: string
}

const EndpointErrorBase: ErrorBase.Constructor<"EndpointError", EndpointErrorFields> = ErrorBase.make(
  "EndpointError",
  (e) => `cannot serve the local endpoint on ${e.address}: ${e.detail}`,
)

/** The endpoint could not start. */
export class EndpointError extends EndpointErrorBase {}

/** The default request size limit in bytes. */
export const defaultMaxRequestBytes = 8192

/**
 * The default limits on connections: 128 open at once, 10 s to send a request's headers, 5 s idle between requests,
 * 15 s per request.
 */
export const defaultConnectionLimits: Connections.ResolvedLimits = {
  maxConnections: 128,
  headersTimeoutMillis: 10_000,
  idleTimeoutMillis: 5_000,
  requestTimeoutMillis: 15_000,
}

/** The private directory a unix socket is bound in before it is renamed into place: `.NAME.sat` beside it. */
export const privateDirectory: (socketPath: string) => string = LocalHttp.privateDirectory

const refuse = (status: number, body: string, close = true): LocalHttp.Response => ({
  status,
  headers: { "content-type": "text/plain; charset=utf-8" },
  body,
  close,
})

const single = (value: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof value === "string" ? value : value?.[0]

/** The checks of the transport itself (size, body, Host, Origin, bearer token), then the routes. */
const answer = (
  config: EndpointConfig,
  request: LocalHttp.Request,
  address: LocalHttp.Address,
): Effect.Effect<LocalHttp.Response, never, AgentState> => {
  const headers = request.headers
  if (request.size > (config.maxRequestBytes ?? defaultMaxRequestBytes)) {
    return Effect.succeed(refuse(431, "request too large\n"))
  }
  const length = single(headers["content-length"])
  if ((length !== undefined && length !== "0") || headers["transfer-encoding"] !== undefined) {
    return Effect.succeed(refuse(413, "request bodies are not accepted\n"))
  }
  if (config._tag === "Tcp") {
    const port = address._tag === "Tcp" ? address.port : config.port
    if (!hostMatches(single(headers["host"]), config.host, port)) {
      return Effect.succeed(refuse(403, "the Host header does not name this endpoint\n"))
    }
    if (!originAllowed(single(headers["origin"]), config.host, port)) {
      return Effect.succeed(refuse(403, "cross-origin requests are refused\n"))
    }
  }
  const routed = EndpointRoutes.route({ method: request.method, url: request.url, headers }).pipe(
    Effect.catchAllCause(() => Effect.succeed(refuse(500, "internal error\n"))),
  )
  const authorization = single(headers["authorization"])
  if (config.bearerToken === undefined) return routed
  if (SealedReply.isSealed(authorization)) return sealed(config.bearerToken, authorization, request.url, routed)
  return authorized(authorization, config.bearerToken) ? routed : Effect.succeed(unauthorized)
}

const refusedCredential = refuse(401, "unauthorized\n", false)
const unauthorized: LocalHttp.Response = {
  ...refusedCredential,
  headers: { ...refusedCredential.headers, "www-authenticate": `Bearer, ${SealedReply.scheme}` },
}

/** The answer to a sealed request ({@link SealedReply}): refused unless its proof holds, else routed and sealed. */
const sealed = <R>(
  secret: Redacted.Redacted<string>,
  authorization: string | undefined,
  url: string,
  routed: Effect.Effect<LocalHttp.Response, never, R>,
): Effect.Effect<LocalHttp.Response, never, R> => {
  const target = EndpointRoutes.originForm(url)
  return Effect.gen(function* () {
    const nonce = yield* SealedReply.verify(secret, authorization, target)
    if (Option.isNone(nonce)) return unauthorized
    const response = yield* routed
    const body = yield* SealedReply.seal(secret, nonce.value, target, response.status, response.body)
    return { ...response, headers: { ...response.headers, "content-type": SealedReply.contentType }, body }
  }).pipe(Effect.catchAllCause(() => Effect.succeed(refuse(500, "internal error\n"))))
}

/** Answers a request and counts it by route and status. */
const handle = (config: EndpointConfig, request: LocalHttp.Request, address: LocalHttp.Address) =>
  answer(config, request, address).pipe(
    Effect.map((response) => ({
      ...response,
      headers: { "x-content-type-options": "nosniff", ...response.headers },
    })),
    Effect.tap((response) => AgentMetrics.recordEndpointRequest(EndpointRoutes.routeOf(request.url), response.status)),
  )

const describe = (config: EndpointConfig): string =>
  config._tag === "Unix" ? `unix:${config.path}` : `${config.host}:${config.port}`

const fail = (config: EndpointConfig, reason: EndpointErrorReason, detail: string) =>
  new EndpointError({ reason, address: describe(config), detail })

const reasons: Readonly<Record<LocalHttp.LocalHttpErrorReason, EndpointErrorReason>> = {
  AddressInUse: "AddressInUse",
  NotASocket: "InvalidConfig",
  UnsafeDirectory: "UnsafeDirectory",
  Listen: "Listen",
  Refused: "Listen",
  Timeout: "Listen",
  TooLarge: "Listen",
  Failed: "Listen",
}

const validate = (config: EndpointConfig): Effect.Effect<void, EndpointError> => {
  if (config.maxRequestBytes !== undefined && !(config.maxRequestBytes >= 256)) {
    return Effect.fail(fail(config, "InvalidConfig", "maxRequestBytes must be at least 256"))
  }
  const limits = Connections.invalid(config.connections)
  if (limits.length > 0) {
    return Effect.fail(fail(config, "InvalidConfig", `connections.${limits[0]} must be a whole number above 0`))
  }
  if (config._tag === "Unix") {
    const mode = config.mode ?? 0o600
    return Number.isInteger(mode) && mode >= 0 && mode <= 0o777
      ? Effect.void
      : Effect.fail(fail(config, "InvalidConfig", `invalid socket mode ${String(mode)}`))
  }
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    return Effect.fail(fail(config, "InvalidConfig", "the port must be an integer from 0 to 65535"))
  }
  if (config.bearerToken === undefined || Redacted.value(config.bearerToken) === "") {
    return Effect.fail(
      fail(config, "InvalidConfig", "a TCP endpoint requires bearerToken: every local user can connect to a port"),
    )
  }
  return isLoopback(config.host) || config.allowNonLoopback === true
    ? Effect.void
    : Effect.fail(fail(config, "NonLoopback", "the host is not a loopback address (set allowNonLoopback to allow it)"))
}

/** Starts the endpoint; it stops (and removes its socket) when the scope closes. */
export const make = (
  config: EndpointConfig,
): Effect.Effect<Endpoint, EndpointError, AgentState | LocalHttp.LocalHttp | Scope.Scope> =>
  Effect.gen(function* () {
    yield* validate(config)
    const context = yield* Effect.context<AgentState>()
    const limit = config.maxRequestBytes ?? defaultMaxRequestBytes
    const address = yield* (yield* LocalHttp.LocalHttp).serve({
      address: config._tag === "Unix"
        ? { _tag: "Unix", path: config.path, mode: config.mode ?? 0o600 }
        : { _tag: "Tcp", host: config.host, port: config.port },
      maxHeaderBytes: Math.max(limit, 1024),
      limits: Connections.resolve(config.connections, defaultConnectionLimits),
      handle: (request, bound) => handle(config, request, bound).pipe(Effect.provide(context)),
    }).pipe(Effect.mapError((error) => fail(config, reasons[error.reason], error.detail)))
    yield* Effect.logDebug("local endpoint listening").pipe(Effect.annotateLogs("address", describe(config)))
    return Endpoint.of({ address })
  })

/** A layer serving the endpoint while it is alive. */
export const layer = (config: EndpointConfig): Layer.Layer<Endpoint, EndpointError, AgentState | LocalHttp.LocalHttp> =>
  Layer.scoped(Endpoint, make(config))
