/**
 * Deno refuses X.509 v1 client certificates, which Node and Bun accept: `token` on Deno reports a typed connection
 * error naming the kubeconfig context and user, the reason, and Node or Bun as the way out; not an internal error.
 * Runs under Node only (it spawns Deno), with a v1 certificate made by openssl.
 */
import assert from "node:assert/strict"
import { execFile, execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { describe, it } from "node:test"
import { runtime } from "../_support/runtime.ts"
import { suiteServer } from "../_support/devserver.ts"
import { main, root } from "../_support/agentProcess.ts"

const openssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

describe("an X.509 v1 client certificate on Deno", { skip: runtime !== "node" || !openssl }, () => {
  const fixture = suiteServer("x509v1-")

  it("is a connection error naming the user and the reason, suggesting Node or Bun", { timeout: 120_000 }, async () => {
    const dir = fs.mkdtempSync(nodePath.join(fixture.dir, "v1-"))
    const key = nodePath.join(dir, "key.pem")
    const cert = nodePath.join(dir, "cert.pem")
    execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key])
    const csr = execFileSync("openssl", ["req", "-new", "-key", key, "-subj", "/CN=v1user"])
    // `x509 -req` with no extensions writes a version 1 certificate.
    execFileSync("openssl", ["x509", "-req", "-days", "2", "-signkey", key, "-out", cert], { input: csr })
    const server = /server: (\S+)/.exec(fixture.server.kubeconfig)![1]!
    const ca = /certificate-authority-data: (\S+)/.exec(fixture.server.kubeconfig)![1]!
    const kubeconfig = nodePath.join(dir, "kubeconfig")
    fs.writeFileSync(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{ name: dev, cluster: { server: " + server + ", certificate-authority-data: " + ca + " } }]",
        `users: [{ name: old-cert, user: { client-certificate: ${cert}, client-key: ${key} } }]`,
        "contexts: [{ name: dev, context: { cluster: dev, user: old-cert } }]",
        "current-context: dev",
      ].join("\n"),
    )
    const deno = nodePath.join(root, "node_modules", ".bin", "deno")
    const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        deno,
        ["run", "-A", main, "token", "default", "--kubeconfig", kubeconfig],
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
      )
    )
    assert.equal(result.code, 1)
    assert.doesNotMatch(result.stderr, /internal error/)
    assert.match(
      result.stderr,
      /^error: cannot build the HTTPS client \(Unsupported\): kubeconfig context "dev", user "old-cert": /,
    )
    assert.match(result.stderr, /X\.509 v1.*UnsupportedCertVersion.*Node and Bun accept it/)
  })
})
