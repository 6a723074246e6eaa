/**
 * A fault-injecting HTTPS server on 127.0.0.1 for the reliability suite. A plain TCP front end either pipes each
 * connection to a `node:tls` + `node:http` back end (certificates from the development server's PKI) or, while
 * `handshakeFault` is set, answers the ClientHello with plain-text bytes so that the TLS handshake fails. The back end
 * closes every connection after one response (so a changed fault applies to the very next request) and lets the
 * handler answer with a status, headers and a body, hang, or send the headers and part of the body and then reset
 * the connection. `close` destroys every socket so that the test process can exit.
 */
import * as http from "node:http"
import * as net from "node:net"
import * as tls from "node:tls"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Pki from "../../adapters/devserver/Pki.ts"
import type * as KubeConnection from "../../adapters/kube/KubeConnection.ts"

/** What the handler sees of a request. */
export interface Seen {
  readonly method: string
  readonly path: string
  readonly body: string
}

/** An answer: a response (a string body is sent as is, anything else as JSON), `hang`, or a reset mid-body. */
export type Answer =
  | {
    readonly status: number
    readonly headers?: Record<string, string>
    readonly body?: unknown
    /** Send the body in this many chunked writes, without `Content-Length`. */
    readonly chunks?: number
  }
  | "hang"
  | { readonly resetAfter: string; readonly declaredLength: number }

export interface FaultServer {
  readonly url: string
  readonly caPem: string
  /** Requests that reached the HTTP layer. */
  readonly requests: Array<Seen>
  /** Connections refused with a broken handshake. */
  handshakesRefused: number
  handshakeFault: boolean
  handler: (seen: Seen) => Answer
  /** Destroys the connections of requests the handler left hanging. */
  readonly releaseHung: () => void
  readonly close: () => Promise<void>
}

export const start = async (handler: (seen: Seen) => Answer): Promise<FaultServer> => {
  const ca = await Pki.makeCaAsync("reliability-ca")
  const cert = await Pki.issueServerCertAsync(ca, { hosts: ["127.0.0.1", "localhost"] })
  const sockets = new Set<net.Socket>()
  const hung = new Set<net.Socket>()
  const track = (s: net.Socket) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
    s.on("error", () => {})
  }
  const app = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const seen: Seen = {
        method: req.method ?? "",
        path: new URL(req.url ?? "/", "https://localhost").pathname,
        body: Buffer.concat(chunks).toString("utf8"),
      }
      server.requests.push(seen)
      const answer = server.handler(seen)
      if (answer === "hang") return void hung.add(req.socket)
      if ("resetAfter" in answer) {
        res.writeHead(201, {
          "content-type": "application/json",
          "content-length": String(answer.declaredLength),
          connection: "close",
        })
        res.write(answer.resetAfter, () => setTimeout(() => req.socket.destroy(), 20))
        return
      }
      const body = typeof answer.body === "string"
        ? answer.body
        : answer.body === undefined
        ? ""
        : JSON.stringify(answer.body)
      const headers = { "content-type": "application/json", connection: "close", ...answer.headers }
      if (answer.chunks === undefined) {
        res.writeHead(answer.status, { ...headers, "content-length": String(Buffer.byteLength(body)) })
        res.end(body)
        return
      }
      res.writeHead(answer.status, headers)
      const size = Math.ceil(body.length / answer.chunks)
      for (let i = 0; i < body.length; i += size) res.write(body.slice(i, i + size))
      res.end()
    })
  })
  const backend = tls.createServer({ key: cert.keyPem, cert: cert.certPem }, (socket) => {
    track(socket)
    app.emit("connection", socket)
  })
  backend.on("connection", track)
  await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve))
  const backendPort = (backend.address() as net.AddressInfo).port
  const front = net.createServer((client) => {
    track(client)
    if (server.handshakeFault) {
      server.handshakesRefused++
      client.end("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
      return
    }
    const upstream = net.connect(backendPort, "127.0.0.1")
    track(upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    upstream.on("close", () => client.destroy())
    client.on("close", () => upstream.destroy())
  })
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve))
  const port = (front.address() as net.AddressInfo).port
  const server: FaultServer = {
    url: `https://127.0.0.1:${port}`,
    caPem: ca.certPem,
    requests: [],
    handshakesRefused: 0,
    handshakeFault: false,
    handler,
    releaseHung: () => {
      for (const s of hung) s.destroy()
      hung.clear()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        app.close()
        front.close(() => backend.close(() => resolve()))
      }),
  }
  return server
}

/** A connection to the server that trusts its CA and sends no credentials; `description` names it in logs. */
export const connection = (server: FaultServer, description: string): KubeConnection.KubeConnection => ({
  server: server.url,
  namespace: "default",
  tls: { caPem: server.caPem },
  headers: {},
  bearerToken: Effect.succeed(Option.none()),
  unauthorized: Effect.void,
  description,
})
