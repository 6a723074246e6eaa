/**
 * Loading connections (kubeconfig and in-cluster) and using them against a real HTTPS server on 127.0.0.1, under
 * whichever runtime runs the file: client certificates as data and as files, bearer tokens, `token-file` re-read on
 * client-go's schedule (TestClock), exec plugins (v1 and v1beta1), `KUBECONFIG` merging, `--context`, in-cluster
 * files, `insecure-skip-tls-verify`, and errors that name what is wrong.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { after, before, describe, it } from "node:test"
import { inspect } from "node:util"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as TestClock from "effect/TestClock"
import * as KubeConnection from "../../adapters/kube/KubeConnection.ts"
import * as KubeTokenFetcher from "../../adapters/kube/KubeTokenFetcher.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { runTest } from "../_support/harness.ts"
import * as KubeServer from "../_support/kubeServer.ts"
import { runtime, tlsLayer } from "../_support/runtime.ts"

const request: TokenRequest = { spec: { expirationSeconds: 3600 } }
const b64 = (s: string) => Buffer.from(s).toString("base64")

let server: KubeServer.KubeServer
let alice: { certPem: string; keyPem: string }
let dir: string
before(async () => {
  server = await KubeServer.start((seen) =>
    seen.path === "/api/v1" ? { status: 200, body: KubeServer.discoveryV1 } : {
      status: 201,
      body: {
        spec: JSON.parse(seen.body || "{}").spec ?? {},
        status: { token: "issued", expirationTimestamp: "2030-01-01T00:00:00Z" },
      },
    }
  )
  alice = await server.client("alice", ["devs"])
  dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "kube-conn-"))
})
after(async () => {
  await server.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const write = (name: string, content: string, mode?: number): string => {
  const file = nodePath.join(dir, name)
  fs.writeFileSync(file, content, mode !== undefined ? { mode } : {})
  return file
}

const kubeconfig = (
  o: { user: Record<string, unknown>; cluster?: Record<string, unknown>; namespace?: string; name?: string },
) =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": o.name ?? "test",
    clusters: [{
      name: o.name ?? "test",
      cluster: { server: server.url, "certificate-authority-data": b64(server.caPem), ...o.cluster },
    }],
    users: [{ name: o.name ?? "test", user: o.user }],
    contexts: [{
      name: o.name ?? "test",
      context: { cluster: o.name ?? "test", user: o.name ?? "test", namespace: o.namespace },
    }],
  })

const platform = NodeContext.layer
const env = (vars: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(vars))))

/** Loads a connection with the given options and environment, then fetches one token; returns what the server saw. */
const fetchVia = (options: KubeConnection.Options, vars: Record<string, string> = {}) =>
  runTest(
    Effect.gen(function* () {
      const connection = yield* KubeConnection.KubeConnection
      const fetcher = yield* KubeTokenFetcher.scoped()
      yield* fetcher.fetch(connection.namespace, "builder", request)
      return { connection, seen: server.requests.at(-1)! }
    }).pipe(
      Effect.provide(KubeConnection.layer(options)),
      Effect.provide(Layer.mergeAll(platform, tlsLayer)),
      Effect.provide(env(vars)),
    ),
  )

const loadError = (options: KubeConnection.Options, vars: Record<string, string> = {}) =>
  runTest(
    Effect.flip(KubeConnection.load(options)).pipe(Effect.provide(platform), Effect.provide(env(vars))),
  )

describe("KubeConnection from kubeconfig", () => {
  it("presents a client certificate given as data and trusts the CA data", async () => {
    const file = write(
      "data.yaml",
      kubeconfig({
        user: { "client-certificate-data": b64(alice.certPem), "client-key-data": b64(alice.keyPem) },
        namespace: "team-a",
      }),
    )
    const { connection, seen } = await fetchVia({ kubeconfig: file })
    assert.equal(seen.user, "alice")
    assert.equal(seen.bearer, undefined)
    assert.equal(connection.namespace, "team-a")
    assert.equal(seen.path, "/api/v1/namespaces/team-a/serviceaccounts/builder/token")
  })

  it("reads CA, certificate and key files relative to the kubeconfig, and sends a static token", async () => {
    write("ca.crt", server.caPem)
    write("alice.crt", alice.certPem)
    write("alice.key", alice.keyPem)
    const file = write(
      "files.yaml",
      kubeconfig({
        cluster: { "certificate-authority-data": undefined, "certificate-authority": "ca.crt" },
        user: { "client-certificate": "alice.crt", "client-key": "alice.key", token: "static-token" },
      }),
    )
    const { connection, seen } = await fetchVia({ kubeconfig: file })
    assert.equal(seen.user, "alice")
    assert.equal(seen.bearer, "static-token")
    assert.equal(connection.namespace, "default")
  })

  it("merges KUBECONFIG files: first definition and first current-context win; --context picks another", async () => {
    const a = write("a.yaml", kubeconfig({ name: "one", user: { token: "token-one" } }))
    const b = write(
      "b.yaml",
      JSON.stringify({
        ...JSON.parse(kubeconfig({ name: "two", user: { token: "token-two" } })),
        users: [{ name: "one", user: { token: "shadowed" } }, { name: "two", user: { token: "token-two" } }],
      }),
    )
    const missing = nodePath.join(dir, "missing.yaml")
    const vars = { KUBECONFIG: [missing, a, b].join(":") }
    assert.equal((await fetchVia({}, vars)).seen.bearer, "token-one")
    assert.equal((await fetchVia({ context: "two" }, vars)).seen.bearer, "token-two")
  })

  it("re-reads a token-file at most once a minute like client-go (TestClock)", async () => {
    const tokenFile = write("token", "first-token\n")
    const file = write("tokenfile.yaml", kubeconfig({ user: { "token-file": "token" } }))
    const bearers = await runTest(
      Effect.gen(function* () {
        const fetcher = yield* KubeTokenFetcher.scoped()
        const seen: Array<string | undefined> = []
        const once = Effect.zipRight(
          fetcher.fetch("default", "builder", request),
          Effect.sync(() => seen.push(server.requests.at(-1)!.bearer)),
        )
        yield* once
        fs.writeFileSync(tokenFile, "second-token")
        yield* TestClock.adjust("49 seconds")
        yield* once
        yield* TestClock.adjust("2 seconds")
        yield* once
        fs.writeFileSync(tokenFile, "")
        yield* TestClock.adjust("1 minute")
        yield* once
        return seen
      }).pipe(
        Effect.provide(KubeConnection.layer({ kubeconfig: file })),
        Effect.provide(Layer.mergeAll(platform, tlsLayer)),
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.none)),
      ),
    )
    assert.deepEqual(bearers, ["first-token", "first-token", "second-token", "second-token"])
  })

  for (const apiVersion of ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]) {
    it(`runs an exec plugin (${apiVersion}) with KUBERNETES_EXEC_INFO`, async () => {
      const infoFile = nodePath.join(dir, `exec-info-${apiVersion.split("/")[1]}.json`)
      const plugin = write(
        `plugin-${apiVersion.split("/")[1]}.sh`,
        `#!/bin/sh\nprintf '%s' "$KUBERNETES_EXEC_INFO" > '${infoFile}'\nprintf '{"apiVersion":"${apiVersion}","kind":"ExecCredential","status":{"token":"exec-%s"}}' "$1"\n`,
        0o755,
      )
      // v1beta1 names the plugin relative to the kubeconfig's directory, as client-go allows.
      const command = apiVersion.endsWith("v1beta1") ? `./${nodePath.basename(plugin)}` : plugin
      const file = write(
        "exec.yaml",
        kubeconfig({
          user: { exec: { apiVersion, command, args: ["arg"], interactiveMode: "Never", provideClusterInfo: true } },
        }),
      )
      const { seen } = await fetchVia({ kubeconfig: file })
      assert.equal(seen.bearer, "exec-arg")
      assert.deepEqual(JSON.parse(fs.readFileSync(infoFile, "utf8")), {
        kind: "ExecCredential",
        apiVersion,
        spec: { interactive: false, cluster: { server: server.url, "certificate-authority-data": b64(server.caPem) } },
      })
    })
  }

  it("runs the exec plugin again after a 401 instead of reusing its cached credential", async () => {
    const counter = nodePath.join(dir, "exec-count")
    const plugin = write(
      "counting.sh",
      `#!/bin/sh\nn=$(cat '${counter}' 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > '${counter}'\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-%s"}}' $n\n`,
      0o755,
    )
    const file = write(
      "counting.yaml",
      kubeconfig({ user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } } }),
    )
    const handler = server.handler
    server.handler = (seen) =>
      seen.bearer === "exec-1"
        ? { status: 401, body: KubeServer.status(401, "Unauthorized", "Unauthorized") }
        : handler(seen)
    try {
      const reasons = await runTest(
        Effect.gen(function* () {
          const fetcher = yield* KubeTokenFetcher.scoped()
          const first = yield* Effect.either(fetcher.fetch("default", "builder", request))
          const second = yield* Effect.either(fetcher.fetch("default", "builder", request))
          return [first._tag === "Left" ? first.left.reason : "ok", second._tag === "Left" ? second.left.reason : "ok"]
        }).pipe(
          Effect.provide(KubeConnection.layer({ kubeconfig: file })),
          Effect.provide(Layer.mergeAll(platform, tlsLayer)),
        ),
      )
      assert.deepEqual(reasons, ["Unauthorized", "ok"])
      assert.equal(server.requests.at(-1)!.bearer, "exec-2")
    } finally {
      server.handler = handler
    }
  })

  it("presents the client certificate an exec plugin returns", async () => {
    const status = { clientCertificateData: alice.certPem, clientKeyData: alice.keyPem }
    const plugin = write(
      "cert-plugin.sh",
      `#!/bin/sh\ncat <<'EOF'\n${
        JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status })
      }\nEOF\n`,
      0o755,
    )
    const file = write(
      "exec-cert.yaml",
      kubeconfig({ user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } } }),
    )
    const { seen } = await fetchVia({ kubeconfig: file })
    assert.equal(seen.user, "alice")
    assert.equal(seen.bearer, undefined)
  })

  it("prefers a token in the kubeconfig to the exec plugin, like client-go", async () => {
    const marker = nodePath.join(dir, "exec-ran")
    const plugin = write("never.sh", `#!/bin/sh\ntouch '${marker}'\nexit 1\n`, 0o755)
    const file = write(
      "token-and-exec.yaml",
      kubeconfig({
        user: { token: "static", exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } },
      }),
    )
    const { seen } = await fetchVia({ kubeconfig: file })
    assert.equal(seen.bearer, "static")
    assert.ok(!fs.existsSync(marker))
  })

  it("keeps the client key out of logs and inspection", async () => {
    const file = write(
      "inspect.yaml",
      kubeconfig({
        user: {
          "client-certificate-data": b64(alice.certPem),
          "client-key-data": b64(alice.keyPem),
          token: "hidden-token",
        },
      }),
    )
    const connection = await runTest(
      KubeConnection.load({ kubeconfig: file }).pipe(Effect.provide(platform), Effect.provide(env({}))),
    )
    const body = alice.keyPem.split("\n")[1]!
    for (
      const text of [JSON.stringify(connection), String(connection.tls.keyPem), inspect(connection, { depth: 10 })]
    ) {
      assert.ok(!text.includes(body) && !text.includes("hidden-token"), text)
    }
  })

  it("honours insecure-skip-tls-verify only with a loud warning (and Deno refuses it)", async () => {
    const file = write(
      "insecure.yaml",
      kubeconfig({
        cluster: { "certificate-authority-data": undefined, "insecure-skip-tls-verify": true },
        user: { token: "t" },
      }),
    )
    const logs: Array<string> = []
    const result = await runTest(
      Effect.gen(function* () {
        const fetcher = yield* KubeTokenFetcher.scoped()
        return yield* fetcher.fetch("default", "builder", request)
      }).pipe(
        Effect.provide(KubeConnection.layer({ kubeconfig: file })),
        Effect.provide(Layer.mergeAll(platform, tlsLayer)),
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message))))),
        Effect.either,
      ),
    )
    assert.ok(logs.some((l) => /INSECURE: .*insecure-skip-tls-verify.*NOT verified/.test(l)), logs.join("\n"))
    if (runtime === "deno") {
      assert.equal(result._tag, "Left")
      assert.match(String(result._tag === "Left" && result.left.message), /unsafely-ignore-certificate-errors/)
    } else {
      assert.equal(result._tag, "Right")
    }
  })

  it("names what is wrong", async () => {
    const good = write("good.yaml", kubeconfig({ user: { token: "t" } }))
    assert.match((await loadError({ kubeconfig: good, context: "nope" })).message, /context "nope" not found/)
    assert.match(
      (await loadError({ kubeconfig: nodePath.join(dir, "absent.yaml") })).message,
      /absent\.yaml: cannot read kubeconfig/,
    )
    assert.match((await loadError({}, {})).message, /no kubeconfig found/)
    const both = write("both.yaml", kubeconfig({ cluster: { "insecure-skip-tls-verify": true }, user: {} }))
    assert.match(
      (await loadError({ kubeconfig: both })).message,
      /root certificates file with the insecure flag is not allowed/,
    )
    const alpha = write(
      "alpha.yaml",
      kubeconfig({ user: { exec: { apiVersion: "client.authentication.k8s.io/v1alpha1", command: "x" } } }),
    )
    assert.match(
      (await loadError({ kubeconfig: alpha })).message,
      /exec plugin: invalid apiVersion "client\.authentication\.k8s\.io\/v1alpha1"/,
    )
    const interactive = write(
      "interactive.yaml",
      kubeconfig({
        user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "x", interactiveMode: "Always" } },
      }),
    )
    assert.match((await loadError({ kubeconfig: interactive })).message, /cannot support interactive mode/)
    write("empty-token", "  \n")
    const empty = write("empty.yaml", kubeconfig({ user: { "token-file": "empty-token" } }))
    assert.match((await loadError({ kubeconfig: empty })).message, /read empty token from file ".*empty-token"/)
    const malformed = write("malformed.yaml", "users:\n- name: a\n  user:\n    token: supersecret: x\n")
    const parse = await loadError({ kubeconfig: malformed })
    assert.equal(
      parse.message,
      `${malformed}: cannot parse YAML: Nested mappings are not allowed in compact mappings at line 4, column 12`,
    )
    const failing = write("fail.sh", "#!/bin/sh\necho 'plugin broke' >&2\nexit 3\n", 0o755)
    const broken = write(
      "broken.yaml",
      kubeconfig({ user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: failing } } }),
    )
    const error = await loadError({ kubeconfig: broken })
    assert.equal(error.reason, "Credentials")
    assert.match(error.message, /plugin broke/)
  })
})

describe("KubeConnection in-cluster", () => {
  it("uses KUBERNETES_SERVICE_HOST/PORT, ca.crt, namespace and the token file", async () => {
    const sa = nodePath.join(dir, "serviceaccount")
    fs.mkdirSync(sa, { recursive: true })
    fs.writeFileSync(nodePath.join(sa, "ca.crt"), server.caPem)
    fs.writeFileSync(nodePath.join(sa, "token"), "pod-token\n")
    fs.writeFileSync(nodePath.join(sa, "namespace"), "kube-apps")
    const port = new URL(server.url).port
    const { connection, seen } = await fetchVia({ inClusterDirectory: sa }, {
      KUBERNETES_SERVICE_HOST: "127.0.0.1",
      KUBERNETES_SERVICE_PORT: port,
    })
    assert.equal(connection.description, "in-cluster")
    assert.equal(connection.namespace, "kube-apps")
    assert.equal(seen.bearer, "pod-token")
    assert.equal(seen.path, "/api/v1/namespaces/kube-apps/serviceaccounts/builder/token")
    const missing = await runTest(
      Effect.flip(KubeConnection.load({ inClusterDirectory: nodePath.join(dir, "nothing") })).pipe(
        Effect.provide(platform),
        Effect.provide(env({ KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: port })),
      ),
    )
    assert.match(missing.message, /^in-cluster: cannot read the cluster CA ".*nothing\/ca\.crt"/)
  })
})
