/**
 * The development API server's transport: TLS terminated with `node:tls` (client certificates requested, not
 * required) and each secure socket handed to a `node:http` server, which works the same under Node, Deno and Bun.
 * The handler sees the raw peer certificate and verifies it itself. Connections are limited
 * ({@link defaultConnectionLimits}): beyond the cap they are closed as soon as they are accepted, before any handshake;
 * a handshake and the first request's headers must each come within the headers timeout, and a connection whose
 * handshake fails is closed.
 *
 * @module
 */
import * as http from "node:http"
import type * as net from "node:net"
import * as tls from "node:tls"
import * as Connections from "../platform/Connections.ts"

/** A request as the transport delivers it. */
export interface Incoming {
  readonly method: string
  readonly path: string
  /** The query string without its `?` (`""` when there is none). */
  readonly query: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: Uint8Array
  /** The DER of the client certificate, when one was presented. */
  readonly peerCertificate: Uint8Array | undefined
  /** A key identifying the connection (for caching the certificate check). */
  readonly connection: object
}

/**
 * A response that stays open (a watch): `start` writes the first chunks and later ones through `write` and returns
 * what stops it. The transport ends it when the client goes away, after `timeoutMillis` when set, and in any case
 * just before the per-request limit, as a real server ends a watch after its own timeout.
 */
export interface Streamed {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly start: (write: (chunk: string | Uint8Array) => void) => () => void
  readonly timeoutMillis?: number | undefined
}

/** What the handler answers: a response, a stream, or `"drop"` to destroy the connection without answering. */
export type Outgoing =
  | { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string | Uint8Array }
  | Streamed
  | "drop"

/** The transport's options. */
export interface TransportOptions {
  readonly host: string
  readonly port: number
  readonly certPem: string
  readonly keyPem: string
  /** Advertised as acceptable client-certificate issuers (Go clients only send a certificate that matches). */
  readonly caPem: string
  readonly maxBodyBytes?: number
  /** Limits on connections; unset fields take {@link defaultConnectionLimits}. */
  readonly connections?: Connections.Limits | undefined
  readonly handle: (incoming: Incoming) => Promise<Outgoing>
}

/**
 * The default limits on connections: 512 open at once, 10 s for the TLS handshake and again for a request's headers,
 * 30 s idle between requests (clients such as kubectl keep connections for reuse), 60 s per request.
 */
export const defaultConnectionLimits: Connections.ResolvedLimits = {
  maxConnections: 512,
  headersTimeoutMillis: 10_000,
  idleTimeoutMillis: 30_000,
  requestTimeoutMillis: 60_000,
}

/** A listening transport. */
export interface Listening {
  readonly port: number
  /** Stops accepting, destroys every open connection and waits until the server is closed. */
  readonly close: () => Promise<void>
}

/**
 * Deno's `node:http` closes a socket it did not accept itself after the first response, whatever the keep-alive
 * headers say, so a client reusing the connection sees a reset (kubectl's POST after `GET /version` did). There the
 * server says `Connection: close`, and clients open a new connection per request.
 */
const closeAfterResponse: boolean = typeof process.versions.deno === "string"

class BodyTooLarge extends Error {}

const readBody = (req: http.IncomingMessage, max: number): Promise<Uint8Array> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    req.on("data", (chunk: Uint8Array) => {
      size += chunk.length
      if (size > max) {
        req.removeAllListeners("data")
        req.resume()
        reject(new BodyTooLarge())
      } else chunks.push(chunk)
    })
    req.on("end", () => {
      const out = new Uint8Array(size)
      let offset = 0
      for (const c of chunks) {
        out.set(c, offset)
        offset += c.length
      }
      resolve(out)
    })
    req.on("error", reject)
  })

const peerCertificate = (socket: net.Socket): Uint8Array | undefined => {
  const tlsSocket = socket as tls.TLSSocket
  if (typeof tlsSocket.getPeerCertificate !== "function") return undefined
  const cert = tlsSocket.getPeerCertificate(true)
  return cert && cert.raw && cert.raw.length > 0 ? new Uint8Array(cert.raw) : undefined
}

/** Starts listening; resolves once the port is bound. */
export const listen = (options: TransportOptions): Promise<Listening> =>
  new Promise((resolve, reject) => {
    const sockets = new Set<net.Socket>()
    const max = options.maxBodyBytes ?? 3 * 1024 * 1024
    const limits = Connections.resolve(options.connections, defaultConnectionLimits)
    const app = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "https://localhost")
      const path = url.pathname
      readBody(req, max)
        .then((body) =>
          options.handle({
            method: (req.method ?? "GET").toUpperCase(),
            path,
            query: url.search.replace(/^\?/, ""),
            headers: req.headers,
            body,
            peerCertificate: peerCertificate(req.socket),
            connection: req.socket,
          })
        )
        .then((out) => {
          if (out === "drop") {
            req.socket.destroy()
            return
          }
          if ("start" in out) {
            res.writeHead(out.status, { ...(closeAfterResponse ? { connection: "close" } : {}), ...out.headers })
            // the status goes out at once, as kube-apiserver's watch does: a client waits for it within its timeout
            // even when no event comes
            res.flushHeaders()
            const stop = out.start((chunk) => res.write(chunk))
            const limit = Math.max(limits.requestTimeoutMillis - 1000, 1)
            const timer = setTimeout(() => res.end(), Math.min(out.timeoutMillis ?? limit, limit))
            res.once("close", () => {
              clearTimeout(timer)
              stop()
            })
            return
          }
          res.writeHead(out.status, {
            "content-length": String(Buffer.byteLength(out.body)),
            ...(closeAfterResponse ? { connection: "close" } : {}),
            ...out.headers,
          })
          res.end(out.body)
        })
        .catch((e) => {
          if (res.headersSent) {
            req.socket.destroy()
            return
          }
          const tooLarge = e instanceof BodyTooLarge
          const code = tooLarge ? 413 : 500
          res.writeHead(code, { "content-type": "application/json", ...(tooLarge ? { connection: "close" } : {}) })
          res.end(JSON.stringify({
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Failure",
            message: tooLarge ? "the request entity is too large" : `Internal error occurred: ${String(e)}`,
            reason: tooLarge ? "RequestEntityTooLarge" : "InternalError",
            code,
          }))
        })
    })
    const server = tls.createServer({
      key: options.keyPem,
      cert: options.certPem,
      ca: [options.caPem],
      requestCert: true,
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
      handshakeTimeout: limits.headersTimeoutMillis,
    })
    const guard = Connections.guard(app, limits, server)
    server.on("secureConnection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      app.emit("connection", socket)
    })
    // A failed or timed-out handshake leaves the socket open unless it is closed here.
    server.on("tlsClientError", (_error, socket) => socket.destroy())
    server.once("error", reject)
    server.listen(options.port, options.host, () => {
      server.off("error", reject)
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : options.port
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            app.close()
            for (const socket of sockets) socket.destroy()
            sockets.clear()
            guard.destroyAll()
          }),
      })
    })
  })
