/**
 * The official Kubernetes Python client against the development API server: it deserializes every object it reads
 * into its typed models, which refuse a pod without `spec.containers`, so this checks that the objects have the fields
 * real ones have. The client, a pinned release, is installed from PyPI into `.cache/python/` on first use (see
 * `_python.ts`); the test skips, saying why, only when Python, pip or PyPI is unavailable. Runs once, under Node.
 */
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import { runTest } from "../_support/harness.ts"
import { server } from "../_support/devserver.ts"
import { pythonClient } from "./_python.ts"

const underNode = !("Deno" in globalThis) && process.versions.bun === undefined

const skip = underNode ? false : "runs once, under Node"

const script = `
import sys
from kubernetes import client, config
config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
print([p.metadata.name for p in v1.list_namespaced_pod("default").items])
print(v1.read_namespaced_pod("demo", "default").spec.containers[0].name)
print([n.metadata.name for n in v1.list_node().items])
print([n.metadata.name for n in v1.list_namespace().items])
print([s.metadata.name for s in v1.list_namespaced_service_account("default").items])
print(client.AuthenticationV1Api().create_self_subject_review(client.V1SelfSubjectReview()).status.user_info.username)
spec = client.V1SelfSubjectAccessReviewSpec(non_resource_attributes=client.V1NonResourceAttributes(path="/api", verb="get"))
print(client.AuthorizationV1Api().create_self_subject_access_review(client.V1SelfSubjectAccessReview(spec=spec)).status.allowed)
request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=["vault"], expiration_seconds=600))
print(v1.create_namespaced_service_account_token("default", "default", request).spec.expiration_seconds)
`

describe("the official Python client against the development API server", () => {
  it(
    "reads pods, nodes, namespaces and service accounts, and creates reviews and tokens",
    { skip },
    async (t) => {
      const client = await pythonClient()
      if ("unavailable" in client) return t.skip(client.unavailable)
      await runTest(Effect.gen(function* () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "devserver-python-"))
        try {
          const kubeconfig = path.join(dir, "kubeconfig")
          yield* server({ kubeconfigOut: kubeconfig })
          const run = yield* Effect.async<{ readonly code: number; readonly stdout: string; readonly stderr: string }>(
            (resume) => {
              execFile(
                "python3",
                ["-c", script, kubeconfig],
                { timeout: 60_000, env: { ...process.env, PYTHONPATH: client.pythonPath } },
                (error, stdout, stderr) =>
                  resume(Effect.succeed({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })),
              )
            },
          )
          assert.equal(run.code, 0, run.stderr)
          assert.deepEqual(run.stdout.trim().split("\n"), [
            "['demo']",
            "main",
            "['node-1']",
            "['default']",
            "['default']",
            "kubernetes-admin",
            "True",
            "600",
          ])
        } finally {
          fs.rmSync(dir, { recursive: true, force: true })
        }
      }))
    },
  )
})
