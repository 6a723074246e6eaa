/**
 * Real kubectl against the development API server, with the kubeconfig the server writes: `create token` (plain, with
 * audience and duration, bound to a pod), `get --raw /openid/v1/jwks`, `auth whoami`, and the errors a real cluster
 * gives. kubectl sends protobuf bodies, so this also checks their decoding. Runs once, under Node.
 */
import assert from "node:assert/strict"
import { execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { after, describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as jose from "jose"
import * as Kubeconfig from "../../adapters/devserver/Kubeconfig.ts"
import type { DevServer } from "../../adapters/devserver/mod.ts"
import { runTest } from "../_support/harness.ts"
import { server, T } from "../_support/devserver.ts"

const underNode = !("Deno" in globalThis) && process.versions.bun === undefined
const skip = underNode ? false : "runs once, under Node"
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "devserver-kubectl-"))
after(() => fs.rmSync(dir, { recursive: true, force: true }))

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const kubectl = (kubeconfig: string, ...args: ReadonlyArray<string>): Effect.Effect<Run> =>
  Effect.async<Run>((resume) => {
    execFile(
      "kubectl",
      ["--kubeconfig", kubeconfig, ...args],
      { timeout: 20_000 },
      (error, stdout, stderr) => resume(Effect.succeed({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })),
    )
  })

const started = (options: Parameters<typeof server>[0] = {}) =>
  Effect.gen(function* () {
    const file = path.join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`)
    const s = yield* server({ ...options, kubeconfigOut: file })
    return { s, file }
  })

const claims = (s: DevServer, token: string, audience: string) =>
  Effect.promise(() =>
    jose.jwtVerify(token.trim(), jose.createLocalJWKSet(s.signer.jwks as jose.JSONWebKeySet), {
      issuer: s.issuer,
      audience,
      currentDate: new Date(T),
    })
  ).pipe(Effect.map(({ payload }) => payload as Record<string, unknown> & { "kubernetes.io": Record<string, unknown> }))

describe("kubectl against the development API server", () => {
  it("create token default", { skip }, () =>
    runTest(Effect.gen(function* () {
      const { s, file } = yield* started()
      const run = yield* kubectl(file, "create", "token", "default")
      assert.equal(run.code, 0, run.stderr)
      const payload = yield* claims(s, run.stdout, s.issuer)
      assert.equal(payload.sub, "system:serviceaccount:default:default")
      assert.equal(Number(payload.exp) - Number(payload.iat), 3600)
    })))

  it("create token default --audience vault --duration 10m", { skip }, () =>
    runTest(Effect.gen(function* () {
      const { s, file } = yield* started()
      const run = yield* kubectl(file, "create", "token", "default", "--audience", "vault", "--duration", "10m")
      assert.equal(run.code, 0, run.stderr)
      const payload = yield* claims(s, run.stdout, "vault")
      assert.deepEqual(payload.aud, ["vault"])
      assert.equal(Number(payload.exp) - Number(payload.iat), 600)
    })))

  it(
    "create token default --bound-object-kind Pod --bound-object-name demo",
    { skip },
    () =>
      runTest(Effect.gen(function* () {
        const { s, file } = yield* started()
        const run = yield* kubectl(
          file,
          "create",
          "token",
          "default",
          "--bound-object-kind",
          "Pod",
          "--bound-object-name",
          "demo",
        )
        assert.equal(run.code, 0, run.stderr)
        const payload = yield* claims(s, run.stdout, s.issuer)
        assert.deepEqual(payload["kubernetes.io"].pod, { name: "demo", uid: s.state.pod("default", "demo")?.uid })
      })),
  )

  it("get --raw /openid/v1/jwks and auth whoami", { skip }, () =>
    runTest(Effect.gen(function* () {
      const { s, file } = yield* started()
      const jwks = yield* kubectl(file, "get", "--raw", "/openid/v1/jwks")
      assert.equal(jwks.code, 0, jwks.stderr)
      assert.deepEqual(JSON.parse(jwks.stdout), s.signer.jwks)
      const whoami = yield* kubectl(file, "auth", "whoami", "-o", "json")
      assert.equal(whoami.code, 0, whoami.stderr)
      const userInfo = JSON.parse(whoami.stdout).status.userInfo
      assert.deepEqual([userInfo.username, userInfo.groups], ["kubernetes-admin", [
        "system:masters",
        "system:authenticated",
      ]])
      assert.match(userInfo.extra["authentication.kubernetes.io/credential-id"][0], /^X509SHA256=[0-9a-f]{64}$/)
      const table = yield* kubectl(file, "auth", "whoami")
      assert.match(table.stdout, /Username\s+kubernetes-admin/)
    })))

  it(
    "auth can-i and --as: answers from the same rules, impersonation needs the impersonate verb",
    { skip },
    () =>
      runTest(Effect.gen(function* () {
        const { s, file } = yield* started()
        const admin = yield* kubectl(file, "auth", "can-i", "create", "serviceaccounts", "--subresource=token")
        assert.deepEqual([admin.code, admin.stdout.trim()], [0, "yes"])
        const alice = yield* s.issueClientCert("alice", ["dev"])
        const aliceFile = path.join(dir, "alice-can-i")
        fs.writeFileSync(aliceFile, Kubeconfig.render({ server: s.url, caPem: s.caPem, ...alice, user: "alice" }))
        const no = yield* kubectl(aliceFile, "auth", "can-i", "create", "serviceaccounts/token")
        assert.deepEqual([no.code, no.stdout.trim()], [1, "no"])
        const discovery = yield* kubectl(aliceFile, "auth", "can-i", "get", "/api")
        assert.equal(discovery.stdout.trim(), "yes")
        const jwks = yield* kubectl(aliceFile, "auth", "can-i", "get", "/openid/v1/jwks")
        assert.equal(jwks.stdout.trim(), "no")
        const asBob = yield* kubectl(file, "--as", "bob", "--as-group", "g", "auth", "whoami", "-o", "json")
        assert.equal(asBob.code, 0, asBob.stderr)
        assert.deepEqual(JSON.parse(asBob.stdout).status.userInfo, {
          username: "bob",
          groups: ["g", "system:authenticated"],
        })
        const bobCan = yield* kubectl(file, "--as", "bob", "auth", "can-i", "create", "serviceaccounts/token")
        assert.equal(bobCan.stdout.trim(), "no")
        const refused = yield* kubectl(aliceFile, "--as", "bob", "auth", "whoami")
        assert.deepEqual([refused.code, refused.stderr.trim()], [
          1,
          "error: the selfsubjectreviews API is not enabled in the cluster or you do not have permission to call it",
        ])
      })),
  )

  it(
    "get prints the server's Table; get -w decodes the watch and prints changes",
    // a kubectl that stops printing fails the test with what it printed, instead of hanging the run
    { skip, timeout: 120_000 },
    () =>
      runTest(Effect.gen(function* () {
        const { s, file } = yield* started()
        const get = yield* kubectl(file, "get", "pods", "-o", "wide")
        assert.equal(get.code, 0, get.stderr)
        assert.match(
          get.stdout,
          /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/,
        )
        assert.match(get.stdout, /\ndemo\s+1\/1\s+Running\s+0\s+\S+\s+<none>\s+node-1\s+<none>\s+<none>\n/)
        const child = spawn("kubectl", ["--kubeconfig", file, "get", "pods", "-w"])
        let stdout = ""
        let stderr = ""
        let exited: string | undefined
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()))
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()))
        child.on("exit", (code, signal) => (exited = `kubectl exited (${signal ?? code})`))
        child.on("error", (e) => (exited = `kubectl failed to start: ${e.message}`))
        // what kubectl printed so far matches, else it ended without printing it: a failure that says so, not a hang
        const seen = (pattern: RegExp) =>
          Effect.async<void, Error>((resume) => {
            const check = () => {
              if (pattern.test(stdout)) resume(Effect.void)
              else if (exited !== undefined) {
                resume(Effect.fail(new Error(`${exited} before printing ${pattern}: ${stdout}${stderr}`)))
              } else return
              child.stdout.off("data", check)
              child.off("close", check)
            }
            child.stdout.on("data", check)
            child.on("close", check)
            check()
          })
        try {
          yield* seen(/\ndemo\s+1\/1\s+Running/)
          // kubectl watches from its list's resourceVersion: the server reports this change whether it comes before
          // or after the watch starts
          s.state.upsertPod({ namespace: "default", name: "web", serviceAccountName: "default" })
          yield* seen(/\nweb\s+0\/1\s+Pending/)
          assert.equal(stderr, "")
        } finally {
          child.kill()
        }
      })),
  )

  it(
    "create -f validates on the server through OpenAPI v3; explain reads the schemas",
    { skip },
    () =>
      runTest(Effect.gen(function* () {
        const { file } = yield* started()
        const review = path.join(dir, "tokenreview.yaml")
        fs.writeFileSync(review, "apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: abc\n")
        const created = yield* kubectl(file, "create", "-f", review, "-o", "jsonpath={.status.error}")
        assert.deepEqual([created.code, created.stdout, created.stderr], [0, "invalid bearer token", ""])
        fs.writeFileSync(
          review,
          "apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: abc\n  bogus: 1\n",
        )
        const strict = yield* kubectl(file, "create", "-f", review)
        assert.equal(strict.code, 1)
        assert.match(strict.stderr, /strict decoding error: unknown field "spec\.bogus"/)
        const explain = yield* kubectl(file, "explain", "pods.spec.containers.name")
        assert.equal(explain.code, 0, explain.stderr)
        assert.match(explain.stdout, /KIND:\s+Pod\n/)
        assert.match(explain.stdout, /FIELD: name <string>/)
        const access = yield* kubectl(file, "explain", "selfsubjectaccessreview.spec")
        assert.match(access.stdout, /resourceAttributes\s+<ResourceAttributes>/)
      })),
  )

  it("shows the errors a real cluster gives", { skip }, () =>
    runTest(Effect.gen(function* () {
      const { s, file } = yield* started({ maxTokenExpirationSeconds: 3600 })
      const short = yield* kubectl(file, "create", "token", "default", "--duration", "1m")
      assert.equal(short.code, 1)
      assert.equal(
        short.stderr.trim(),
        'error: failed to create token: TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
      )
      const missing = yield* kubectl(file, "create", "token", "nope")
      assert.equal(missing.stderr.trim(), 'error: failed to create token: serviceaccounts "nope" not found')
      const capped = yield* kubectl(file, "create", "token", "default", "--duration", "2h")
      assert.equal(capped.code, 0)
      assert.match(capped.stderr, /Warning: requested expiration of 7200 seconds shortened to 3600 seconds/)
      const alice = yield* s.issueClientCert("alice", ["dev"])
      const aliceFile = path.join(dir, "alice")
      fs.writeFileSync(aliceFile, Kubeconfig.render({ server: s.url, caPem: s.caPem, ...alice, user: "alice" }))
      const denied = yield* kubectl(aliceFile, "create", "token", "default")
      assert.equal(
        denied.stderr.trim(),
        'error: failed to create token: serviceaccounts "default" is forbidden: User "alice" cannot create resource "serviceaccounts/token" in API group "" in the namespace "default"',
      )
    })))
})
