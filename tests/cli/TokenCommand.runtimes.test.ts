/**
 * The `token` command as a user runs it, under Node only (it spawns the other runtimes itself): the Deno, Node and
 * Bun CLIs print the same TokenRequest and the same error against the development API server, and kubectl accepts
 * the ExecCredential through a kubeconfig `exec` user (`kubectl auth whoami`).
 */
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import { runtime } from "../_support/runtime.ts"
import { suiteServer } from "../_support/devserver.ts"

describe("token on every runtime's CLI", { skip: runtime !== "node" }, () => {
  const fixture = suiteServer("token-cli-")

  it("gives the same result on Deno, Node and Bun, and kubectl accepts the ExecCredential", {
    skip: runtime !== "node",
  }, async () => {
    const root = nodePath.resolve(import.meta.dirname ?? ".", "..", "..")
    const bin = (name: string) => nodePath.join(root, "node_modules", ".bin", name)
    const run = (file: string, args: ReadonlyArray<string>) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          file,
          [...args],
          { cwd: root },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        )
      )
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
    const clis: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
      [process.execPath, ["--import", "tsx", "adapters/cli/main.ts"]],
      [bin("deno"), ["run", "-A", "adapters/cli/main.ts"]],
      [bin("bun"), ["adapters/cli/main.ts"]],
    ]
    const normalise = (text: string) => {
      const body = JSON.parse(text)
      assert.match(body.status.token, /^eyJ/)
      return { ...body, status: { token: "T", expirationTimestamp: "E" } }
    }
    const outputs = await Promise.all(clis.map(([file, pre]) => run(file, [...pre, ...args])))
    for (const o of outputs) assert.equal(o.code, 0, o.stderr)
    // Nothing on stderr: no runtime warning from a dependency (Deno reported client-node's use of punycode).
    for (const o of outputs) assert.equal(o.stderr, "")
    const [first, ...rest] = outputs.map((o) => normalise(o.stdout))
    for (const other of rest) assert.deepEqual(other, first)
    const errors = await Promise.all(
      clis.map(([file, pre]) => run(file, [...pre, "token", "ghost", "--kubeconfig", fixture.kubeconfig])),
    )
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
              command: bin("bun"),
              args: [
                nodePath.join(root, "adapters/cli/main.ts"),
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
    if (kubectl.code === 127 || /ENOENT/.test(kubectl.stderr)) return
    assert.equal(kubectl.code, 0, kubectl.stderr)
    assert.equal(JSON.parse(kubectl.stdout).status.userInfo.username, "system:serviceaccount:default:default")
  })
})
