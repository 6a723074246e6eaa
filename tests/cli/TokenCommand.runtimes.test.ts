/**
 * The `token` command as a user runs it, under Node only (it spawns the other runtimes itself): the Deno, Node and
 * Bun CLIs print the same TokenRequest and the same error against the development API server, and kubectl accepts
 * the ExecCredential through a kubeconfig `exec` user (`kubectl auth whoami`); the server's `Warning` goes to stderr,
 * never into the token or the ExecCredential on stdout.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as DevServer from "../../adapters/devserver/mod.ts"
import { cliCommand, run, runEveryCli } from "../_support/clis.ts"
import { runtime } from "../_support/runtime.ts"
import { suiteServer } from "../_support/devserver.ts"

describe("token on every runtime's CLI", { skip: runtime !== "node" }, () => {
  const fixture = suiteServer("token-cli-")

  it("gives the same result on Deno, Node and Bun, and kubectl accepts the ExecCredential", {
    skip: runtime !== "node",
  }, async () => {
    const args = [
      "token",
      "default",
      "--kubeconfig",
      fixture.kubeconfig,
      "-o",
      "json",
      "--audience",
      "x",
      "--duration",
      "2h",
    ]
    const normalise = (text: string) => {
      const body = JSON.parse(text)
      assert.match(body.status.token, /^eyJ/)
      return { ...body, status: { token: "T", expirationTimestamp: "E" } }
    }
    const outputs = Object.values(await runEveryCli(args))
    for (const o of outputs) assert.equal(o.code, 0, o.stderr)
    // Nothing on stderr: no runtime warning from a dependency (Deno reported client-node's use of punycode).
    for (const o of outputs) assert.equal(o.stderr, "")
    const [first, ...rest] = outputs.map((o) => normalise(o.stdout))
    for (const other of rest) assert.deepEqual(other, first)
    const errors = Object.values(await runEveryCli(["token", "ghost", "--kubeconfig", fixture.kubeconfig]))
    for (const e of errors) {
      assert.notEqual(e.code, 0)
      assert.equal(e.stdout, "")
      assert.equal(e.stderr.trim(), 'error: failed to create token: serviceaccounts "ghost" not found')
    }

    const cluster = fixture.server.kubeconfig.match(/certificate-authority-data: *(\S+)/)![1]
    const execConfig = nodePath.join(fixture.dir, "exec.yaml")
    fs.writeFileSync(
      execConfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        "current-context": "sa",
        clusters: [{ name: "dev", cluster: { server: fixture.server.url, "certificate-authority-data": cluster } }],
        users: [{
          name: "sa",
          user: {
            exec: {
              apiVersion: "client.authentication.k8s.io/v1",
              // Bun's CLI starts fastest; the outputs of the three runtimes were shown to be the same above.
              command: cliCommand("bun")[0],
              args: [
                ...cliCommand("bun").slice(1),
                "token",
                "default",
                "--kubeconfig",
                fixture.kubeconfig,
                "-o",
                "exec-credential",
              ],
              interactiveMode: "Never",
            },
          },
        }],
        contexts: [{ name: "sa", context: { cluster: "dev", user: "sa" } }],
      }),
    )
    const kubectl = await run("kubectl", ["--kubeconfig", execConfig, "auth", "whoami", "-o", "json"])
    if (kubectl.code === 127) return
    assert.equal(kubectl.code, 0, kubectl.stderr)
    assert.equal(JSON.parse(kubectl.stdout).status.userInfo.username, "system:serviceaccount:default:default")
  })

  it("writes the server's Warning to stderr as kubectl does, and stdout holds only the token or the ExecCredential", {
    skip: runtime !== "node",
  }, async () => {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "token-warning-"))
    const kubeconfig = nodePath.join(dir, "admin.yaml")
    const scope = Effect.runSync(Scope.make())
    try {
      await Effect.runPromise(
        Scope.extend(DevServer.start({ maxTokenExpirationSeconds: 3600, kubeconfigOut: kubeconfig }), scope),
      )
      const warning = "Warning: requested expiration of 7200 seconds shortened to 3600 seconds\n"
      const tokens = await runEveryCli(["token", "default", "--kubeconfig", kubeconfig, "--duration", "2h"])
      for (const [name, o] of Object.entries(tokens)) {
        assert.equal(o.code, 0, `${name}: ${o.stderr}`)
        assert.match(o.stdout, /^[\w-]+\.[\w-]+\.[\w-]+$/, name)
        assert.equal(o.stderr, warning, name)
      }
      const credentials = await runEveryCli((name) => [
        "exec-credential",
        "default",
        "--kubeconfig",
        kubeconfig,
        "--duration",
        "2h",
        "--cache-dir",
        nodePath.join(dir, `cache-${name}`),
      ])
      for (const [name, o] of Object.entries(credentials)) {
        assert.equal(o.code, 0, `${name}: ${o.stderr}`)
        assert.equal(JSON.parse(o.stdout).kind, "ExecCredential", name)
        assert.match(o.stderr, /level=WARN .*message="Warning: requested expiration of 7200 seconds/, name)
      }
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
