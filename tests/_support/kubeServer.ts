/**
 * A scripted HTTPS server on 127.0.0.1 for the Kubernetes adapter's tests: certificates from the development server's
 * PKI, TLS terminated with `node:tls` (client certificates work the same on Node, Deno and Bun) and handed to a
 * `node:http` server, a verified client-certificate identity and the bearer token of each request, and a handler the
 * test replaces at will. `close` destroys every connection so that the process can exit.
 */
import * as http from "node:http"
import type { AddressInfo, Socket } from "node:net"
import * as tls from "node:tls"
import * as Pki from "../../adapters/devserver/Pki.ts"
import * as Status from "../../core/Status.ts"

/** What the handler sees of a request. */
export interface Seen {
  readonly method: string
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
  /** The CN of a client certificate issued by the server's CA, if one was presented. */
  readonly user: string | undefined
  readonly bearer: string | undefined
}

/** What the handler answers: a status, headers and a body (an object is sent as JSON); `hang` never answers. */
export type Answer =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: unknown }
  | "hang"
  | "drop"

export interface KubeServer {
  readonly url: string
  readonly caPem: string
  readonly ca: Pki.Ca
  readonly requests: Array<Seen>
  handler: (seen: Seen) => Answer
  readonly client: (user: string, groups?: ReadonlyArray<string>) => Promise<Pki.KeyPairPem>
  readonly close: () => Promise<void>
}

/** The discovery document of `/api/v1` with the TokenRequest subresource. */
export const discoveryV1 = {
  kind: "APIResourceList",
  groupVersion: "v1",
  resources: [{
    name: "serviceaccounts/token",
    namespaced: true,
    group: "authentication.k8s.io",
    version: "v1",
    kind: "TokenRequest",
    verbs: ["create"],
  }],
}

/** A Status body as an API server writes it. */
export const status = (code: number, reason: string, message: string): Status.Status =>
  Status.failure(code, reason, message)

/** Starts a server; `ca` lets a test start a second server under another CA. */
export const start = async (handler: (seen: Seen) => Answer, ca?: Pki.Ca): Promise<KubeServer> => {
  const authority = ca ?? (await Pki.makeCaAsync("test-ca"))
  const serverCert = await Pki.issueServerCertAsync(authority, { hosts: ["127.0.0.1", "localhost"] })
  const sockets = new Set<Socket>()
  const users = new WeakMap<object, string | undefined>()
  const requests: Array<Seen> = []
  const app = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const auth = req.headers.authorization
      const seen: Seen = {
        method: req.method ?? "",
        path: new URL(req.url ?? "/", "https://localhost").pathname,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        user: users.get(req.socket),
        bearer: auth?.startsWith("Bearer ") ? auth.slice(7) : undefined,
      }
      requests.push(seen)
      const answer = server.handler(seen)
      if (answer === "hang") return
      if (answer === "drop") return void req.socket.destroy()
      const body = typeof answer.body === "string"
        ? answer.body
        : answer.body === undefined
        ? ""
        : JSON.stringify(answer.body)
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers })
      res.end(body)
    })
  })
  const tlsServer = tls.createServer({
    key: serverCert.keyPem,
    cert: serverCert.certPem,
    requestCert: true,
    rejectUnauthorized: false,
    ca: [authority.certPem],
  }, (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
    const peer = socket.getPeerCertificate(true)
    const raw = peer && "raw" in peer && peer.raw ? new Uint8Array(peer.raw) : undefined
    void (raw ? Pki.verifyClientCertAsync(authority, raw) : Promise.resolve(undefined)).then((identity) => {
      users.set(socket, identity?.user)
      app.emit("connection", socket)
    })
  })
  tlsServer.on("connection", (s: Socket) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve))
  const port = (tlsServer.address() as AddressInfo).port
  const server: KubeServer = {
    url: `https://127.0.0.1:${port}`,
    caPem: authority.certPem,
    ca: authority,
    requests,
    handler,
    client: (user, groups) => Pki.issueClientCertAsync(authority, { commonName: user, organizations: groups ?? [] }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        app.close()
        tlsServer.close(() => resolve())
      }),
  }
  return server
}
