/**
 * Limits on the connections of a `node:http` server, enforced by the server itself so that they hold the same way under
 * Node, Deno and Bun: a cap on open connections (more are closed as soon as they are accepted), a deadline for the
 * headers of a request (from the connection's start, or from the end of the previous response on a kept-alive
 * connection), and a deadline for a request to be answered. Node's own `headersTimeout` is checked only every
 * `connectionsCheckingInterval` (30 s), Deno's likewise, Bun applies it its own way, and Bun does not close connections
 * over `maxConnections`: without this, thousands of idle connections held a server's descriptors and memory for as long
 * as their clients wished.
 *
 * The deadlines are socket timeouts of the operating system's clock (timers), like Node's own server timeouts: a
 * connection's life is real I/O, and a test clock moving hours ahead must not cut connections still in use.
 *
 * @module
 */
import type * as http from "node:http"
import type * as net from "node:net"

/** Limits on a server's connections. */
export interface Limits {
  /** The most connections open at once; more are closed as soon as they are accepted. */
  readonly maxConnections?: number | undefined
  /**
   * How long a new connection has to deliver the headers of its first request, in milliseconds (a TLS server applies it
   * to the handshake too).
   */
  readonly headersTimeoutMillis?: number | undefined
  /** How long a kept-alive connection may wait, after a response, for the headers of its next request. */
  readonly idleTimeoutMillis?: number | undefined
  /** How long a request may take from the end of its headers to the end of its response (a body upload included). */
  readonly requestTimeoutMillis?: number | undefined
}

/** {@link Limits} with every field set. */
export type ResolvedLimits = { readonly [K in keyof Limits]-?: number }

/** Fills the fields of `limits` that are not set from `defaults`. */
export const resolve = (limits: Limits | undefined, defaults: ResolvedLimits): ResolvedLimits => ({
  maxConnections: limits?.maxConnections ?? defaults.maxConnections,
  headersTimeoutMillis: limits?.headersTimeoutMillis ?? defaults.headersTimeoutMillis,
  idleTimeoutMillis: limits?.idleTimeoutMillis ?? defaults.idleTimeoutMillis,
  requestTimeoutMillis: limits?.requestTimeoutMillis ?? defaults.requestTimeoutMillis,
})

/** The fields of {@link Limits} that are not positive whole numbers (for a configuration error). */
export const invalid = (limits: Limits | undefined): ReadonlyArray<keyof Limits> =>
  (Object.entries(limits ?? {}) as ReadonlyArray<[keyof Limits, unknown]>)
    .filter(([, value]) => value !== undefined && !(Number.isInteger(value) && (value as number) > 0))
    .map(([key]) => key)

/** A guarded server. */
export interface Guard {
  /** The connections open now. */
  readonly open: () => number
  /** Closes every open connection, handshakes in progress included (when the server stops). */
  readonly destroyAll: () => void
}

interface State {
  timer: ReturnType<typeof setTimeout> | undefined
  active: number
}

/**
 * Enforces `limits` on `server`. `listener` is the server that accepts the TCP connections when it is not `server`
 * itself (a `tls.Server` handing its secure sockets to `server`): the cap applies there, to connections that have not
 * finished their handshake too.
 */
export const guard = (server: http.Server, limits: ResolvedLimits, listener?: net.Server): Guard => {
  const { maxConnections, headersTimeoutMillis, idleTimeoutMillis, requestTimeoutMillis } = limits
  // Node's and Deno's own timeouts stay as a second line; they never fire before these.
  server.headersTimeout = headersTimeoutMillis
  server.requestTimeout = Math.max(requestTimeoutMillis, headersTimeoutMillis)
  server.keepAliveTimeout = idleTimeoutMillis
  const open = new Set<net.Socket>()
  ;(listener ?? server).on("connection", (socket: net.Socket) => {
    if (open.size >= maxConnections) {
      socket.destroy()
      return
    }
    open.add(socket)
    socket.once("close", () => open.delete(socket))
  })
  const states = new WeakMap<net.Socket, State>()
  const arm = (socket: net.Socket, state: State, millis: number) => {
    clearTimeout(state.timer)
    state.timer = setTimeout(() => socket.destroy(), millis)
    // the socket keeps the process alive while it is open, not the timer
    state.timer.unref?.()
  }
  server.on("connection", (socket: net.Socket) => {
    if (socket.destroyed) return
    const state: State = { timer: undefined, active: 0 }
    states.set(socket, state)
    arm(socket, state, headersTimeoutMillis)
    socket.once("close", () => clearTimeout(state.timer))
  })
  server.prependListener("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket
    const state = states.get(socket)
    if (state === undefined) return
    state.active++
    arm(socket, state, requestTimeoutMillis)
    let done = false
    const finished = () => {
      if (done) return
      done = true
      state.active--
      if (state.active === 0 && !socket.destroyed) arm(socket, state, idleTimeoutMillis)
    }
    res.once("finish", finished)
    res.once("close", finished)
  })
  return {
    open: () => open.size,
    destroyAll: () => {
      for (const socket of open) socket.destroy()
    },
  }
}
