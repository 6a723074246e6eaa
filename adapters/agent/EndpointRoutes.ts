/**
 * The routes of the agent's local endpoint as a function from a request to a response, independent of any server:
 * `GET /v1/tokens/NAME` (raw token, or JSON with `?format=json` or `Accept: application/json`), `GET /healthz`,
 * `GET /readyz` and `GET /metrics`. Only GET is allowed. A token is written into a response body only here, and only
 * when it is valid now; every other body (errors, health, readiness, metrics) holds names and phases, never a token.
 *
 * A request path that another HTTP component could read as a different path is refused with 400 before routing: a `.`
 * or `..` segment, an encoded dot, slash or backslash (`%2e`, `%2f`, `%5c`), or a backslash. URL parsing would turn
 * `/metrics/../v1/tokens/vault` into the token route, behind a proxy that allowed only `/metrics`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { AgentState, EndpointRoutes } from "@sa-token/manager/agent"
 * import * as Effect from "effect/Effect"
 * import * as Option from "effect/Option"
 *
 * const starting: AgentState.AgentState = {
 *   list: Effect.succeed([]),
 *   token: () => Effect.succeed(Option.none()),
 *   ready: Effect.succeed(false),
 * }
 * const answer = (url: string) =>
 *   EndpointRoutes.route({ method: "GET", url, headers: {} }).pipe(
 *     Effect.provideService(AgentState.AgentState, starting),
 *     Effect.runPromise,
 *   )
 * assert.equal((await answer("/healthz")).status, 200)
 * assert.equal((await answer("/readyz")).status, 503)
 * assert.equal((await answer("/v1/tokens/vault")).status, 404)
 * ```
 *
 * @module
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { quote } from "../../core/TokenRequest.ts"
import { AgentState } from "./AgentState.ts"
import * as AgentMetrics from "./AgentMetrics.ts"
import * as Metrics from "./Metrics.ts"
import * as TokenReply from "./TokenReply.ts"

/** What the routes see of a request. `url` may be origin-form (`/v1/...`) or absolute (Deno's unix-socket fetch). */
export interface RouteRequest {
  /** The HTTP method. */
  readonly method: string
  /** The request target. */
  readonly url: string
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
}

/** A response to write. */
export interface RouteResponse {
  /** The HTTP status code. */
  readonly status: number
  /** The response headers. */
  readonly headers: Readonly<Record<string, string>>
  /** The response body. */
  readonly body: string
}

const text = (status: number, body: string, headers: Record<string, string> = {}): RouteResponse => ({
  status,
  headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers },
  body,
})

const json = (status: number, value: unknown): RouteResponse => ({
  status,
  headers: { "content-type": "application/json", "cache-control": "no-store" },
  body: `${JSON.stringify(value)}\n`,
})

const header = (request: RouteRequest, name: string): string => {
  const value = request.headers[name]
  return value === undefined ? "" : typeof value === "string" ? value : value.join(",")
}

const wantsJson = (request: RouteRequest, url: URL): boolean =>
  url.searchParams.get("format") === "json" ||
  header(request, "accept").split(",").some((part) => part.split(";")[0]!.trim().toLowerCase() === "application/json")

const tokenPath = /^\/v1\/tokens\/([^/]+)$/

const token = (request: RouteRequest, url: URL, encoded: string): Effect.Effect<RouteResponse, never, AgentState> =>
  Effect.gen(function* () {
    let name: string
    try {
      name = decodeURIComponent(encoded)
    } catch {
      return text(400, "malformed token name in path\n")
    }
    const state = yield* AgentState
    const statuses = yield* state.list
    const declared = statuses.find((status) => status.name === name)
    if (declared === undefined) return text(404, `token ${quote(name)} is not declared\n`)
    const current = yield* state.token(name)
    const now = yield* Clock.currentTimeMillis
    const valid = Option.filter(
      current,
      ({ response }) => response.status !== undefined && now <= response.status.expirationTimestamp.getTime(),
    )
    if (Option.isNone(valid)) {
      return text(503, `token ${quote(name)} is not valid (phase ${declared.phase})\n`, { "retry-after": "1" })
    }
    const { response, status } = valid.value
    if (status.phase === "stale") yield* AgentMetrics.recordStaleServed(name)
    const tokenStatus = response.status!
    return wantsJson(request, url)
      ? json(200, TokenReply.encode({ name, ...tokenStatus }))
      : text(200, Redacted.value(tokenStatus.token))
  })

const readyz: Effect.Effect<RouteResponse, never, AgentState> = Effect.gen(function* () {
  const state = yield* AgentState
  if (yield* state.ready) return text(200, "ok\n")
  const statuses = yield* state.list
  const waiting = statuses.filter((s) => s.phase !== "valid" && s.phase !== "stale")
  return text(503, `not ready: ${waiting.map((s) => `${quote(s.name)} is ${s.phase}`).join(", ") || "starting"}\n`)
})

/** A request target in origin-form (`/path?query`): an absolute one without its scheme and authority. */
export const originForm = (target: string): string => target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "")

/** The path of a request target (origin-form or absolute), before any decoding or normalization. */
const rawPath = (target: string): string => originForm(target).split(/[?#]/)[0]!

/** The route of a request target, for metrics: a fixed set of values, never a token name. */
export const routeOf = (target: string): "token" | "healthz" | "readyz" | "metrics" | "other" => {
  const path = rawPath(target)
  return path.startsWith("/v1/tokens/")
    ? "token"
    : path === "/healthz" || path === "/readyz" || path === "/metrics"
    ? (path.slice(1) as "healthz" | "readyz" | "metrics")
    : "other"
}

/**
 * Whether a request target's path could be read as another path: a `.` or `..` segment, `%2e`, `%2f` or `%5c` (any
 * case), or a backslash (URL parsers treat it as a slash in http URLs).
 */
export const ambiguousPath = (target: string): boolean => {
  const path = rawPath(target)
  return /%2e|%2f|%5c|\\/i.test(path) || path.split("/").some((segment) => segment === "." || segment === "..")
}

/** Answers one request. Never fails: ambiguous paths get 400, unexpected paths 404, other methods 405. */
export const route = (request: RouteRequest): Effect.Effect<RouteResponse, never, AgentState> => {
  if (ambiguousPath(request.url)) {
    return Effect.succeed(
      text(400, "the request path must not hold dot segments, encoded dots or slashes, or backslashes\n"),
    )
  }
  let url: URL
  try {
    url = new URL(request.url, "http://localhost")
  } catch {
    return Effect.succeed(text(400, "malformed request target\n"))
  }
  if (request.method !== "GET") return Effect.succeed(text(405, "only GET is allowed\n", { allow: "GET" }))
  const path = url.pathname
  if (path === "/healthz") return Effect.succeed(text(200, "ok\n"))
  if (path === "/readyz") return readyz
  if (path === "/metrics") {
    return Effect.map(Metrics.render, (body) => ({
      status: 200,
      headers: { "content-type": Metrics.contentType, "cache-control": "no-store" },
      body,
    }))
  }
  const match = tokenPath.exec(path)
  if (match !== null) return token(request, url, match[1]!)
  return Effect.succeed(text(404, "not found\n"))
}
