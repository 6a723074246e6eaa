/**
 * The runtime contract suite, written once and run by `deno test`, `bun test` and `node --test`: each runtime's own
 * TLS client (picked in `tests/_support/runtime.ts`) talks to the development API server over real HTTPS on 127.0.0.1 with a client
 * certificate, a bearer token, an exec plugin and in-cluster files; refuses a server signed by an unknown CA; and
 * turns every server-side failure, injected or real, into its `TokenFetchError` reason.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { after, before, describe, it } from "node:test"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as Pki from "../../adapters/devserver/Pki.ts"
import * as DevServer from "../../adapters/devserver/mod.ts"
import * as KubeConnection from "../../adapters/kube/KubeConnection.ts"
import * as KubeTokenFetcher from "../../adapters/kube/KubeTokenFetcher.ts"
import * as TlsHttpClient from "../../adapters/platform/TlsHttpClient.ts"
import type { FetchReason } from "../../core/TokenError.ts"
import { fetchReasons } from "../../core/TokenError.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { runTest, tokenOf } from "../_support/harness.ts"
import { runtime, tlsLayer } from "../_support/runtime.ts"

const STATIC = "static-bearer-token-0123456789"
const request: TokenRequest = { spec: { audiences: ["vault"], expirationSeconds: 3600 } }
const b64 = (s: string) => Buffer.from(s).toString("base64")
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8"))

describe(`runtime contract (${runtime})`, () => {
  let scope: Scope.CloseableScope
  let server: DevServer.DevServer
  let dir: string
  before(async () => {
    scope = Effect.runSync(Scope.make())
    server = await Effect.runPromise(Scope.extend(DevServer.start(), scope))
    server.state.addStaticToken(STATIC, "ci-bot", ["system:masters"])
    dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "contract-"))
  })
  after(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    fs.rmSync(dir, { recursive: true, force: true })
  })

  const kubeconfig = (name: string, user: Record<string, unknown>, caPem = server.caPem): string => {
    const file = nodePath.join(dir, `${name}.yaml`)
    fs.writeFileSync(
      file,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        "current-context": "dev",
        clusters: [{ name: "dev", cluster: { server: server.url, "certificate-authority-data": b64(caPem) } }],
        users: [{ name: "u", user }],
        contexts: [{ name: "dev", context: { cluster: "dev", user: "u" } }],
      }),
    )
    return file
  }
  const platform = Layer.merge(NodeContext.layer, tlsLayer)
  const fetchWith = (
    options: KubeConnection.Options,
    vars: Record<string, string> = {},
    namespace = "default",
    name = "default",
    req: TokenRequest = request,
  ) =>
    runTest(
      KubeTokenFetcher.scoped().pipe(
        Effect.flatMap((fetcher) => fetcher.fetch(namespace, name, req)),
        Effect.either,
        Effect.provide(KubeConnection.layer(options)),
        Effect.provide(platform),
        Effect.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(vars))))),
      ),
    )
  const admin = () => {
    const file = nodePath.join(dir, "admin.yaml")
    fs.writeFileSync(file, server.kubeconfig)
    return { kubeconfig: file }
  }
  const assertIssued = (result: Awaited<ReturnType<typeof fetchWith>>) => {
    assert.equal(result._tag, "Right", result._tag === "Left" ? result.left.message : "")
    const token = result._tag === "Right" ? tokenOf(result.right)! : ""
    assert.equal(claims(token).sub, "system:serviceaccount:default:default")
    assert.deepEqual(claims(token).aud, ["vault"])
  }

  it("issues a token with the admin client certificate (kubeconfig data)", async () => {
    assertIssued(await fetchWith(admin()))
  })

  it("issues a token with a bearer token", async () => {
    assertIssued(await fetchWith({ kubeconfig: kubeconfig("bearer", { token: STATIC }) }))
  })

  it("issues a token with an exec plugin's credential", async () => {
    const plugin = nodePath.join(dir, "plugin.sh")
    const credential = {
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: { token: STATIC },
    }
    fs.writeFileSync(plugin, `#!/bin/sh\necho '${JSON.stringify(credential)}'\n`, { mode: 0o755 })
    const exec = { apiVersion: "client.authentication.k8s.io/v1", command: plugin, interactiveMode: "Never" }
    assertIssued(await fetchWith({ kubeconfig: kubeconfig("exec", { exec }) }))
  })

  it("issues a token in-cluster (service-account files and KUBERNETES_SERVICE_*)", async () => {
    const sa = nodePath.join(dir, "serviceaccount")
    fs.mkdirSync(sa, { recursive: true })
    fs.writeFileSync(nodePath.join(sa, "ca.crt"), server.caPem)
    fs.writeFileSync(nodePath.join(sa, "token"), STATIC)
    fs.writeFileSync(nodePath.join(sa, "namespace"), "default")
    assertIssued(
      await fetchWith({ inClusterDirectory: sa }, {
        KUBERNETES_SERVICE_HOST: "127.0.0.1",
        KUBERNETES_SERVICE_PORT: String(server.port),
      }),
    )
  })

  it("refuses the server when the kubeconfig trusts another CA", async () => {
    const other = await Pki.makeCaAsync("someone-else")
    const result = await fetchWith({ kubeconfig: kubeconfig("unknown-ca", { token: STATIC }, other.certPem) })
    assert.equal(result._tag === "Left" && result.left.reason, "Transport")
  })

  it("refuses a client certificate without its key before connecting", async () => {
    const error = await runTest(
      Effect.flatMap(
        TlsHttpClient.TlsHttpClient,
        (tls) => tls.make({ caPem: server.caPem, certPem: server.adminCertPem }),
      )
        .pipe(Effect.scoped, Effect.flip, Effect.provide(tlsLayer)),
    )
    assert.equal(error.reason, "InvalidMaterial")
  })

  const seen = new Set<FetchReason>()
  const expectReason = (reason: FetchReason, result: Awaited<ReturnType<typeof fetchWith>>, message?: RegExp) => {
    assert.equal(result._tag, "Left")
    if (result._tag !== "Left") return
    assert.equal(result.left.reason, reason, result.left.message)
    if (message) assert.match(result.left.message, message)
    assert.ok(!result.left.message.includes(STATIC))
    seen.add(reason)
  }

  it("maps the server's real refusals to reasons with their Status messages", async () => {
    const bearer = { kubeconfig: kubeconfig("bearer", { token: STATIC }) }
    expectReason(
      "Unauthorized",
      await fetchWith({ kubeconfig: kubeconfig("bad", { token: "not-a-known-token" }) }),
    )
    const nobody = await Effect.runPromise(server.issueClientCert("nobody", []))
    const stranger = kubeconfig("nobody", {
      "client-certificate-data": b64(nobody.certPem),
      "client-key-data": b64(nobody.keyPem),
    })
    expectReason("Forbidden", await fetchWith({ kubeconfig: stranger }), /forbidden/)
    expectReason("NotFound", await fetchWith(bearer, {}, "default", "ghost"), /serviceaccounts "ghost" not found/)
    expectReason(
      "Invalid",
      await fetchWith(bearer, {}, "default", "default", { spec: { expirationSeconds: 60 } }),
      /10 minutes/,
    )
    const configMap = { spec: { boundObjectRef: { kind: "ConfigMap", apiVersion: "v1", name: "c" } } }
    expectReason("BadRequest", await fetchWith(bearer, {}, "default", "default", configMap), /cannot bind token/)
    const wrongUid = { spec: { boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "demo", uid: "wrong-uid" } } }
    expectReason("Conflict", await fetchWith(bearer, {}, "default", "default", wrongUid), /UID/)
  })

  it("maps injected faults: 429 with Retry-After, 5xx, a dropped connection, a malformed body, a missing endpoint", async () => {
    const bearer = { kubeconfig: kubeconfig("bearer", { token: STATIC }) }
    const token = "/api/v1/namespaces/default/serviceaccounts/default/token"
    server.faults.inject({ status: 429, retryAfterSeconds: 3, count: 1, pathPrefix: token })
    const limited = await fetchWith(bearer)
    expectReason("TooManyRequests", limited)
    assert.equal(limited._tag === "Left" && "retryAfterSeconds" in limited.left && limited.left.retryAfterSeconds, 3)
    server.faults.inject({ status: 503, count: 1, pathPrefix: token })
    expectReason("ServerError", await fetchWith(bearer))
    server.faults.inject({ drop: true, count: 1, pathPrefix: token })
    expectReason("Transport", await fetchWith(bearer))
    server.faults.inject({ malformed: true, count: 1, pathPrefix: token })
    expectReason("Decode", await fetchWith(bearer))
    // The TokenRequest answers 404 and discovery answers without the `serviceaccounts/token` resource.
    server.faults.inject({ status: 404, count: 1, pathPrefix: token })
    const resources = { kind: "APIResourceList", groupVersion: "v1", resources: [{ name: "pods" }] }
    server.faults.inject({
      malformed: true,
      body: JSON.stringify(resources),
      count: 1,
      method: "GET",
      pathPrefix: "/api/v1",
    })
    expectReason("Unsupported", await fetchWith(bearer), /does not have TokenRequest endpoints enabled/)
    server.faults.clear()
  })

  it("times out a slow server (TestClock) and has produced every reason but Standalone", async () => {
    const bearer = { kubeconfig: kubeconfig("bearer", { token: STATIC }) }
    server.faults.inject({ latencyMillis: 2000, count: 1, pathPrefix: "/api/v1/namespaces" })
    const result = await runTest(
      Effect.gen(function* () {
        const fetcher = yield* KubeTokenFetcher.scoped()
        const fiber = yield* Effect.fork(Effect.either(fetcher.fetch("default", "default", request)))
        while (Chunk.isEmpty(yield* TestClock.sleeps())) yield* Effect.yieldNow()
        yield* TestClock.adjust("10 seconds")
        return yield* Fiber.join(fiber)
      }).pipe(Effect.provide(KubeConnection.layer(bearer)), Effect.provide(platform)),
    )
    expectReason("Timeout", result, /timed out after 10s/)
    server.faults.clear()
    assert.deepEqual([...seen].sort(), fetchReasons.filter((r) => r !== "Standalone").toSorted())
  })
})
