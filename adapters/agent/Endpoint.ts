/**
 * The agent's local endpoint: a `node:http` server (the same in Node, Deno and Bun) on a unix socket or a loopback TCP
 * address, serving {@link EndpointRoutes.route} while its scope is open.
 *
 * - A unix socket is created inside a fresh 0700 directory next to its final path, given its mode (0600 by default)
 *   and only then renamed into place, so nobody can connect before the mode applies, whatever the umask.
 * - A TCP address must be loopback unless `allowNonLoopback` is set, and a TCP endpoint requires a bearer token: any
 *   local user can connect to a port, and a web page can reach it through DNS rebinding. A TCP request must also name
 *   the endpoint's own address in `Host` and carry no foreign `Origin` (403 otherwise), so that a page whose host name
 *   was rebound to 127.0.0.1 is refused even before the token is checked.
 * - The bearer token (optional on a unix socket, whose mode guards it) is compared in constant time (SHA-256 of both
 *   sides, then `timingSafeEqual`).
 * - Requests are limited in size (request target plus headers); a request with a body, or any method but GET, is
 *   refused.
 * - Connections are limited ({@link defaultConnectionLimits}): at most 128 open, 10 s to send a request's headers, 5 s
 *   idle between requests, 15 s per request; connections beyond the cap are closed as soon as they are accepted.
 *
 * @example Serve an agent state on a loopback port and ask it for a token
 * ```ts
 * import assert from "node:assert/strict"
 * import { AgentState, Endpoint, EndpointClient } from "@sa-token/manager/agent"
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
 * }).pipe(Effect.scoped, Effect.provide(state), Effect.runPromise)
 * assert.equal(token, "a.b.c")
 * ```
 *
 * @module
 */
import * as Context from "effect/Context"
import * as ErrorBase from "../../core/ErrorBase.ts"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { createHash, timingSafeEqual } from "node:crypto"
import * as fs from "node:fs/promises"
import * as http from "node:http"
import * as path from "node:path"
import process from "node:process"
import * as Connections from "../platform/Connections.ts"
import type { AgentState } from "./AgentState.ts"
import * as EndpointRoutes from "./EndpointRoutes.ts"
import * as AgentMetrics from "./AgentMetrics.ts"
import { isLoopback } from "./Loopback.ts"

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
export type EndpointAddress =
  | { readonly _tag: "Unix"; readonly path: string }
  | { readonly _tag: "Tcp"; readonly host: string; readonly port: number }

/** A running endpoint. */
export interface Endpoint {
  /** Where it listens. */
  readonly address: EndpointAddress
}

/** The tag of the {@link Endpoint} service. */
export const Endpoint: Context.Tag<Endpoint, Endpoint> = Context.GenericTag<Endpoint>(
  "@sa-token/manager/agent/Endpoint",
)

/** Why the endpoint could not start. */
export type EndpointErrorReason = "NonLoopback" | "InvalidConfig" | "AddressInUse" | "Listen"

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

const describe = (config: EndpointConfig): string =>
  config._tag === "Unix" ? `unix:${config.path}` : `${config.host}:${config.port}`

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest()

/** Compares a presented `Authorization` header with the expected bearer token in constant time. */
export const authorized = (header: string | undefined, expected: Redacted.Redacted<string>): boolean => {
  const match = /^Bearer[ \t]+(.+)$/i.exec((header ?? "").trim())
  const presented = match === null ? "" : match[1]!.trim()
  // Always compare, even when no token was presented, so that timing does not depend on the header's shape.
  const equal = timingSafeEqual(digest(presented), digest(Redacted.value(expected)))
  return match !== null && equal
}

const requestBytes = (req: http.IncomingMessage): number =>
  (req.url ?? "").length + req.method!.length + req.rawHeaders.reduce((n, part) => n + part.length + 2, 0)

const write = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  response: EndpointRoutes.RouteResponse,
  close = false,
): void => {
  const headers: Record<string, string> = { "x-content-type-options": "nosniff", ...response.headers }
  if (close) headers["connection"] = "close"
  res.writeHead(response.status, headers)
  res.end(response.body)
  Effect.runSync(AgentMetrics.recordEndpointRequest(EndpointRoutes.routeOf(req.url ?? ""), response.status))
}

const refuse = (status: number, body: string): EndpointRoutes.RouteResponse => ({
  status,
  headers: { "content-type": "text/plain; charset=utf-8" },
  body,
})

const unbracket = (host: string): string => host.replace(/^\[(.*)\]$/, "$1").toLowerCase()

const isIpLiteral = (host: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":")

/**
 * Whether a `Host` header names a TCP endpoint bound to `host:port`: the bound address itself, or `localhost` for a
 * loopback address, or any IP literal for a wildcard address (`0.0.0.0`, `::`); always with the port (bare for port
 * 80). A host name an attacker controls (DNS rebinding) never matches.
 */
export const hostMatches = (header: string | undefined, host: string, port: number): boolean => {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec((header ?? "").trim())
  if (match === null || (match[2] === undefined ? port !== 80 : Number(match[2]) !== port)) return false
  const named = unbracket(match[1]!)
  const bound = unbracket(host)
  if (named === bound) return true
  if (bound === "0.0.0.0" || bound === "::") return named === "localhost" || isIpLiteral(named)
  return isLoopback(bound) && (named === "localhost" || (bound === "localhost" && isLoopback(named)))
}

/** Whether an `Origin` header, when present, is the TCP endpoint's own (`http://` and a matching host). */
export const originAllowed = (header: string | undefined, host: string, port: number): boolean => {
  if (header === undefined) return true
  const match = /^http:\/\/([^/]+)$/i.exec(header.trim())
  return match !== null && hostMatches(match[1], host, port)
}

const handler = (config: EndpointConfig, runtime: Runtime.Runtime<AgentState>, port: () => number) => {
  const limit = config.maxRequestBytes ?? defaultMaxRequestBytes
  const run = Runtime.runPromise(runtime)
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (requestBytes(req) > limit) return write(req, res, refuse(431, "request too large\n"), true)
    const length = req.headers["content-length"]
    if ((length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined) {
      return write(req, res, refuse(413, "request bodies are not accepted\n"), true)
    }
    if (config._tag === "Tcp") {
      if (!hostMatches(req.headers["host"], config.host, port())) {
        return write(req, res, refuse(403, "the Host header does not name this endpoint\n"), true)
      }
      if (!originAllowed(req.headers["origin"], config.host, port())) {
        return write(req, res, refuse(403, "cross-origin requests are refused\n"), true)
      }
    }
    if (config.bearerToken !== undefined && !authorized(req.headers["authorization"], config.bearerToken)) {
      return write(req, res, { ...refuse(401, "unauthorized\n"), headers: { "www-authenticate": "Bearer" } })
    }
    const request = { method: req.method ?? "", url: req.url ?? "/", headers: req.headers }
    run(EndpointRoutes.route(request)).then(
      (response) => write(req, res, response),
      () => write(req, res, refuse(500, "internal error\n"), true),
    )
  }
}

const listen = (server: http.Server, target: string | { host: string; port: number }): Promise<void> =>
  new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error)
    server.once("error", onError)
    const done = () => {
      server.off("error", onError)
      resolve()
    }
    if (typeof target === "string") server.listen(target, done)
    else server.listen(target.port, target.host, done)
  })

interface Started {
  readonly server: http.Server
  readonly guard: Connections.Guard
  readonly address: EndpointAddress
  readonly inode?: number
}

const close = ({ server, guard }: Pick<Started, "server" | "guard">): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => resolve())
    guard.destroyAll()
  })

const fail = (config: EndpointConfig, reason: EndpointErrorReason, detail: string) =>
  new EndpointError({ reason, address: describe(config), detail })

/** Moves aside a stale socket at `target`; refuses a live one or anything that is not a socket. */
const clearStale = async (config: UnixConfig): Promise<EndpointError | undefined> => {
  const stat = await fs.lstat(config.path).catch(() => undefined)
  if (stat === undefined) return undefined
  if (!stat.isSocket()) return fail(config, "InvalidConfig", "the path exists and is not a socket")
  const live = await new Promise<boolean>((resolve) => {
    const probe = http.get({ socketPath: config.path, path: "/healthz", timeout: 1000 }, (res) => {
      res.resume()
      resolve(true)
    })
    // Only a refused connection proves the socket is stale; a server that accepts but hangs is alive.
    probe.on("error", (error: Error & { code?: string }) => resolve(error.code !== "ECONNREFUSED"))
    probe.on("timeout", () => {
      resolve(true)
      probe.destroy()
    })
  })
  if (live) return fail(config, "AddressInUse", "another process is serving this socket")
  await fs.unlink(config.path)
  return undefined
}

/**
 * The private directory the socket is bound in before it is renamed into place: `.NAME.sat` beside it, a fixed name
 * so that Deno's `--allow-net=unix:…` can name the temporary socket. One left by a killed agent of the same user is
 * replaced; one of another user is refused.
 */
export const privateDirectory = (socketPath: string): string =>
  path.join(path.dirname(path.resolve(socketPath)), `.${path.basename(socketPath)}.sat`)

const makePrivateDirectory = async (socketPath: string): Promise<string> => {
  const dir = privateDirectory(socketPath)
  try {
    await fs.mkdir(dir, { mode: 0o700 })
  } catch (error) {
    const stat = (error as { code?: string }).code === "EEXIST" ? await fs.lstat(dir) : undefined
    if (stat === undefined || !stat.isDirectory() || stat.uid !== (process.geteuid?.() ?? stat.uid)) throw error
    await fs.rm(dir, { recursive: true, force: true })
    await fs.mkdir(dir, { mode: 0o700 })
  }
  return dir
}

const startUnix = async (config: UnixConfig, server: http.Server): Promise<EndpointError | number> => {
  const parent = path.dirname(path.resolve(config.path))
  await fs.mkdir(parent, { recursive: true, mode: 0o700 })
  const stale = await clearStale(config)
  if (stale !== undefined) return stale
  const privateDir = await makePrivateDirectory(config.path)
  try {
    const temporary = path.join(privateDir, "s")
    await listen(server, temporary)
    await fs.chmod(temporary, config.mode ?? 0o600)
    await fs.rename(temporary, config.path)
    return (await fs.lstat(config.path)).ino
  } finally {
    await fs.rm(privateDir, { recursive: true, force: true })
  }
}

const acquire = (config: EndpointConfig, runtime: Runtime.Runtime<AgentState>) =>
  Effect.tryPromise({
    try: async (): Promise<Started> => {
      const limit = config.maxRequestBytes ?? defaultMaxRequestBytes
      let port = config._tag === "Tcp" ? config.port : 0
      const server = http.createServer({ maxHeaderSize: Math.max(limit, 1024) }, handler(config, runtime, () => port))
      const guard = Connections.guard(server, Connections.resolve(config.connections, defaultConnectionLimits))
      if (config._tag === "Unix") {
        const result = await startUnix(config, server).catch(async (error) => {
          await close({ server, guard })
          throw error
        })
        if (typeof result !== "number") throw result
        return { server, guard, address: { _tag: "Unix", path: config.path }, inode: result }
      }
      await listen(server, { host: config.host, port: config.port })
      const bound = server.address()
      port = typeof bound === "object" && bound !== null ? bound.port : config.port
      return { server, guard, address: { _tag: "Tcp", host: config.host, port } }
    },
    catch: (error) =>
      error instanceof EndpointError
        ? error
        : (error as { code?: string }).code === "EADDRINUSE"
        ? fail(config, "AddressInUse", "the address is already in use")
        : fail(config, "Listen", String((error as Error)?.message ?? error)),
  })

const release = (started: Started) =>
  Effect.promise(async () => {
    await close(started)
    if (started.address._tag === "Unix") {
      const stat = await fs.lstat(started.address.path).catch(() => undefined)
      if (stat?.isSocket() && stat.ino === started.inode) await fs.unlink(started.address.path).catch(() => {})
    }
  })

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
export const make = (config: EndpointConfig): Effect.Effect<Endpoint, EndpointError, AgentState | Scope.Scope> =>
  Effect.gen(function* () {
    yield* validate(config)
    const runtime = yield* Effect.runtime<AgentState>()
    const started = yield* Effect.acquireRelease(acquire(config, runtime), release)
    yield* Effect.logDebug("local endpoint listening").pipe(Effect.annotateLogs("address", describe(config)))
    return Endpoint.of({ address: started.address })
  })

/** A layer serving the endpoint while it is alive. */
export const layer = (config: EndpointConfig): Layer.Layer<Endpoint, EndpointError, AgentState> =>
  Layer.scoped(Endpoint, make(config))
