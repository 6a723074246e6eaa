/**
 * exec-credential end to end: against the in-process development API server, with the runtime running this suite,
 * and with real kubectl when it is installed (a kubeconfig whose user is an `exec` plugin running this runtime's CLI).
 */
import assert from "node:assert/strict"
import { execFile, execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import process from "node:process"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as YAML from "yaml"
import * as Endpoint from "../../adapters/agent/Endpoint.ts"
import * as Command from "../../adapters/cli/ExecCredentialCommand.ts"
import * as DevServer from "../../adapters/devserver/mod.ts"
import { cliCommand } from "../_support/clis.ts"
import { runtime, tlsLayer } from "../_support/runtime.ts"
import { execCredentialFlags, fakeAgent, status } from "../_support/agentFakes.ts"
import { platform } from "../_support/platform.ts"

const kubectl = (() => {
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore", timeout: 10_000 })
    return true
  } catch {
    return false
  }
})()

const flags = execCredentialFlags

const credential = (f: Command.Flags) =>
  Command.credential(f).pipe(Effect.either, Effect.provide(tlsLayer), Effect.provide(platform))

const run = (file: string, args: ReadonlyArray<string>): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { timeout: 60_000, env: { ...process.env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })

/** Runs the checks against a fresh development API server and a temporary directory holding its kubeconfig. */
const withServer = (
  body: (server: DevServer.DevServer, dir: string) => Effect.Effect<void, unknown>,
): Promise<void> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sa-exec-e2e-"))
  return Effect.runPromise(Effect.scoped(Effect.gen(function* () {
    const server = yield* DevServer.start()
    fs.writeFileSync(path.join(dir, "admin.yaml"), server.kubeconfig, { mode: 0o600 })
    yield* body(server, dir)
  }))).finally(() => fs.rmSync(dir, { recursive: true, force: true }))
}

describe("exec-credential against the development API server", () => {
  it("fetches once, then answers from the on-disk cache; --config falls back to fetching when no agent listens", () =>
    withServer((server, dir) =>
      Effect.gen(function* () {
        const base = {
          kubeconfig: Option.some(path.join(dir, "admin.yaml")),
          cacheDir: Option.some(path.join(dir, "cache")),
        }
        const first = yield* credential(flags({ ...base, serviceAccount: Option.some("default") }))
        assert.ok(Either.isRight(first), Either.isLeft(first) ? first.left.message : "")
        assert.equal(server.stats.tokensIssued, 1)
        const second = yield* credential(flags({ ...base, serviceAccount: Option.some("default") }))
        assert.ok(Either.isRight(second))
        assert.equal(second.right, first.right, "the cached credential is printed again")
        assert.equal(server.stats.tokensIssued, 1, "no TokenRequest for the second invocation")
        const parsed = JSON.parse(first.right)
        assert.equal(parsed.kind, "ExecCredential")
        assert.equal(parsed.apiVersion, "client.authentication.k8s.io/v1")
        assert.match(parsed.status.expirationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)

        fs.writeFileSync(
          path.join(dir, "agent.yaml"),
          [
            `cluster: { kubeconfig: ${JSON.stringify(path.join(dir, "admin.yaml"))} }`,
            `endpoint: { unix: { path: ${JSON.stringify(path.join(dir, "agent.sock"))} } }`,
            "tokens:",
            "  - { name: app, namespace: default, serviceAccount: default, expirationSeconds: 3600 }",
          ].join("\n"),
        )
        const viaConfig = yield* credential(
          flags({
            name: Option.some("app"),
            config: Option.some(path.join(dir, "agent.yaml")),
            cacheDir: base.cacheDir,
          }),
        )
        assert.ok(Either.isRight(viaConfig), Either.isLeft(viaConfig) ? viaConfig.left.message : "")
        assert.equal(server.stats.tokensIssued, 2)
        // With the agent of that config listening, the token comes from the agent, not from a TokenRequest.
        const fake = fakeAgent([{
          status: status("app", { expiresAt: new Date(Date.UTC(2100, 0, 1)) }),
          token: "from-agent",
        }])
        const fromAgent = yield* Effect.scoped(
          Endpoint.make({ _tag: "Unix", path: path.join(dir, "agent.sock") }).pipe(
            Effect.zipRight(
              credential(flags({ name: Option.some("app"), config: Option.some(path.join(dir, "agent.yaml")) })),
            ),
            Effect.provide([fake.layer, platform]),
          ),
        )
        assert.ok(Either.isRight(fromAgent), Either.isLeft(fromAgent) ? fromAgent.left.message : "")
        assert.equal(JSON.parse(fromAgent.right).status.token, "from-agent")
        assert.equal(server.stats.tokensIssued, 2)
        if (process.getuid?.() === 0) {
          // A socket another user could have put there is refused, not worked around with a TokenRequest.
          const squatted = yield* Effect.scoped(
            Endpoint.make({ _tag: "Unix", path: path.join(dir, "agent.sock") }).pipe(
              Effect.tap(() => fs.chownSync(path.join(dir, "agent.sock"), 4242, 4242)),
              Effect.zipRight(
                credential(flags({ name: Option.some("app"), config: Option.some(path.join(dir, "agent.yaml")) })),
              ),
              Effect.provide([fake.layer, platform]),
            ),
          )
          assert.ok(Either.isLeft(squatted))
          assert.match(squatted.left.message, /agent\.sock: the socket belongs to uid 4242; only a socket of root/)
          assert.equal(server.stats.tokensIssued, 2)
        }
        const undeclared = yield* credential(
          flags({ name: Option.some("nope"), config: Option.some(path.join(dir, "agent.yaml")) }),
        )
        assert.ok(Either.isLeft(undeclared))
        assert.match(undeclared.left.message, /not declared/)

        const missing = yield* credential(flags({ ...base, serviceAccount: Option.some("ghost") }))
        assert.ok(Either.isLeft(missing))
        assert.match(missing.left.message, /^failed to create token: .*ghost/)
      })
    ))

  it("a cache hit loads no credentials (the kubeconfig's exec plugin does not run); editing the kubeconfig misses", () =>
    withServer((server, dir) =>
      Effect.gen(function* () {
        // The admin's client certificate, handed out by an exec plugin that counts its runs.
        const admin = YAML.parse(server.kubeconfig)
        const user = admin.users[0].user
        const status = {
          clientCertificateData: Buffer.from(user["client-certificate-data"], "base64").toString(),
          clientKeyData: Buffer.from(user["client-key-data"], "base64").toString(),
        }
        const counter = path.join(dir, "runs")
        const plugin = path.join(dir, "plugin.sh")
        fs.writeFileSync(
          plugin,
          `#!/bin/sh\necho x >> '${counter}'\ncat <<'EOF'\n${
            JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status })
          }\nEOF\n`,
          { mode: 0o755 },
        )
        admin.users[0].user = { exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } }
        const kubeconfig = path.join(dir, "exec.yaml")
        fs.writeFileSync(kubeconfig, YAML.stringify(admin), { mode: 0o600 })
        const runs = () => fs.readFileSync(counter, "utf8").split("\n").filter(Boolean).length
        const ask = credential(
          flags({
            kubeconfig: Option.some(kubeconfig),
            cacheDir: Option.some(path.join(dir, "cache")),
            serviceAccount: Option.some("default"),
          }),
        )
        const first = yield* ask
        assert.ok(Either.isRight(first), Either.isLeft(first) ? first.left.message : "")
        assert.deepEqual([runs(), server.stats.tokensIssued], [1, 1])
        const second = yield* ask
        assert.ok(Either.isRight(second))
        assert.equal(second.right, first.right)
        assert.deepEqual([runs(), server.stats.tokensIssued], [1, 1], "served from the cache without the plugin")
        fs.appendFileSync(kubeconfig, "# edited\n")
        const third = yield* ask
        assert.ok(Either.isRight(third))
        assert.notEqual(third.right, first.right)
        assert.deepEqual([runs(), server.stats.tokensIssued], [2, 2], "an edited kubeconfig is a new identity")
      })
    ))

  it(
    "is accepted by kubectl as an exec plugin: auth whoami shows the service account",
    { skip: !kubectl },
    () =>
      withServer((server, dir) =>
        Effect.gen(function* () {
          const cache = path.join(dir, "cache")
          const args = [
            "exec-credential",
            "default",
            "-n",
            "default",
            "--kubeconfig",
            path.join(dir, "admin.yaml"),
            "--cache-dir",
            cache,
          ]
          // Warm the cache in-process, so that kubectl's plugin run must reuse it (no second TokenRequest).
          const warmed = yield* credential(
            flags({
              serviceAccount: Option.some("default"),
              namespace: Option.some("default"),
              kubeconfig: Option.some(path.join(dir, "admin.yaml")),
              cacheDir: Option.some(cache),
            }),
          )
          assert.ok(Either.isRight(warmed))
          const [command, ...prefix] = cliCommand(runtime)
          const caData = Buffer.from(server.caPem).toString("base64")
          const kubeconfig = {
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: "dev", cluster: { server: server.url, "certificate-authority-data": caData } }],
            users: [{
              name: "sa",
              user: {
                exec: {
                  apiVersion: "client.authentication.k8s.io/v1",
                  command,
                  args: [...prefix, ...args],
                  interactiveMode: "Never",
                },
              },
            }],
            contexts: [{ name: "sa", context: { cluster: "dev", user: "sa" } }],
            "current-context": "sa",
          }
          const file = path.join(dir, "exec.yaml")
          fs.writeFileSync(file, JSON.stringify(kubeconfig), { mode: 0o600 })
          const whoami = yield* Effect.promise(() =>
            run("kubectl", ["--kubeconfig", file, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"])
          )
          assert.equal(whoami.code, 0, whoami.stderr)
          assert.equal(whoami.stdout.trim(), "system:serviceaccount:default:default")
          assert.equal(server.stats.tokensIssued, 1, "kubectl's plugin run reused the cached token")
        })
      ),
  )
})
