/**
 * Helpers for the development API server's suites: an HTTPS client over `node:https` (which honours `ca`, `cert` and
 * `key` under Node, Deno and Bun), Status decoding, a scoped server started under the test's TestClock, and a server
 * shared by a whole suite.
 */
import * as fs from "node:fs"
import type * as http from "node:http"
import * as https from "node:https"
import * as os from "node:os"
import * as path from "node:path"
import { after, before } from "node:test"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as Status from "../../core/Status.ts"
import * as DevServer from "../../adapters/devserver/mod.ts"

/** The reference's example server time (2025-03-01T10:00:00Z). */
export const T = Date.parse("2025-03-01T10:00:00Z")

/** Credentials for a request: the admin's client certificate (default), another certificate, a bearer token, none. */
export type Credentials =
  | { readonly admin: true }
  | { readonly cert: string; readonly key: string }
  | { readonly token: string }
  | { readonly none: true }

/** A request. */
export interface Call {
  readonly method?: string
  readonly path: string
  readonly body?: unknown
  /** Raw bytes instead of JSON. */
  readonly raw?: Uint8Array
  readonly contentType?: string
  readonly as?: Credentials
  /** Trust this CA instead of the server's. */
  readonly ca?: string
  /** More request headers (impersonation, ...). */
  readonly headers?: Readonly<Record<string, string | Array<string>>>
}

/** A response. */
export interface Answer {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly text: string
  readonly json: unknown
  /** The body as sent (a protobuf reply is not text). */
  readonly bytes: Uint8Array
}

/** Reads a whole response: its status, headers, bytes, text and, when the text is JSON, the parsed value. */
export const answer = (res: http.IncomingMessage): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Uint8Array> = []
    res.on("data", (c: Uint8Array) => chunks.push(c))
    res.on("end", () => {
      const bytes = Buffer.concat(chunks)
      const text = bytes.toString("utf8")
      let json: unknown = undefined
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, bytes: new Uint8Array(bytes) })
    })
    res.on("error", reject)
  })

/** Sends one request on a fresh connection. */
export const send = (server: DevServer.DevServer, call: Call): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const as = call.as ?? { admin: true }
    const body = call.raw ?? (call.body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(call.body)))
    const req = https.request(`${server.url}${call.path}`, {
      method: call.method ?? (body === undefined ? "GET" : "POST"),
      ca: call.ca ?? server.caPem,
      agent: false,
      ...("admin" in as ? { cert: server.adminCertPem, key: server.adminKeyPem } : {}),
      ...("cert" in as ? { cert: as.cert, key: as.key } : {}),
      headers: {
        ...("token" in as ? { authorization: `Bearer ${as.token}` } : {}),
        ...(body === undefined ? {} : { "content-type": call.contentType ?? "application/json" }),
        accept: "application/json",
        ...call.headers,
      },
    }, (res) => answer(res).then(resolve, reject))
    req.on("error", reject)
    if (body !== undefined) req.write(body)
    req.end()
  })

/** {@link send} as an Effect. */
export const call = (server: DevServer.DevServer, c: Call): Effect.Effect<Answer> =>
  Effect.promise(() => send(server, c))

/** Decodes a response body as a `meta/v1` Status (fails the test when it is not one). */
export const statusOf = (answer: Answer): Status.Status => Schema.decodeUnknownSync(Status.Status)(answer.json)

/** Starts a server in the test's scope with the TestClock set to {@link T}. */
export const server = (
  options: DevServer.Options = {},
): Effect.Effect<DevServer.DevServer, DevServer.DevServerError, Scope.Scope> =>
  TestClock.setTime(T).pipe(Effect.zipRight(DevServer.start(options)))

/** The token request path. */
export const tokenPath = (namespace: string, name: string): string =>
  `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`

/** A TokenRequest body. */
export const tokenRequest = (spec: Record<string, unknown>, metadata?: Record<string, unknown>): unknown => ({
  apiVersion: "authentication.k8s.io/v1",
  kind: "TokenRequest",
  ...(metadata === undefined ? {} : { metadata }),
  spec,
})

/** The JSON of an issued TokenRequest. */
export interface IssuedJson {
  readonly kind: string
  readonly apiVersion: string
  readonly metadata: Record<string, string>
  readonly spec: {
    readonly audiences: ReadonlyArray<string>
    readonly expirationSeconds: number
    readonly boundObjectRef?: Record<string, string>
  }
  readonly status: { readonly token: string; readonly expirationTimestamp: string }
}

/** The body of a 201 TokenRequest answer. */
export const issuedOf = (answer: Answer): IssuedJson => answer.json as IssuedJson

/** A development API server for a whole suite, with its admin kubeconfig written to a temporary directory. */
export interface SuiteServer {
  readonly server: DevServer.DevServer
  /** The temporary directory, removed after the suite. */
  readonly dir: string
  /** The admin kubeconfig in {@link SuiteServer.dir}. */
  readonly kubeconfig: string
}

/**
 * Starts a server in the suite's `before` and stops it (and removes its directory) in `after`; read the fields inside
 * tests, once `before` has run.
 */
export const suiteServer = (prefix: string): SuiteServer => {
  let scope: Scope.CloseableScope | undefined
  const fixture = { server: undefined as unknown as DevServer.DevServer, dir: "", kubeconfig: "" }
  before(async () => {
    scope = Effect.runSync(Scope.make())
    fixture.server = await Effect.runPromise(Scope.extend(DevServer.start(), scope))
    fixture.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
    fixture.kubeconfig = path.join(fixture.dir, "admin.yaml")
    fs.writeFileSync(fixture.kubeconfig, fixture.server.kubeconfig)
  })
  after(async () => {
    if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
    if (fixture.dir !== "") fs.rmSync(fixture.dir, { recursive: true, force: true })
  })
  return fixture
}
