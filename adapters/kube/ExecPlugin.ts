/**
 * Exec credential plugins in kubeconfig, prepared the way client-go runs them before `@kubernetes/client-node`
 * executes them: only `client.authentication.k8s.io/v1` and `v1beta1`, a relative command with a path separator
 * resolved against the kubeconfig's directory, `KUBERNETES_EXEC_INFO` in the environment (with `spec.cluster` when
 * `provideClusterInfo` is set), and no plugin that insists on an interactive terminal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { ExecPlugin } from "@sa-token/manager/kube"
 * import * as Path from "@effect/platform/Path"
 * import * as Effect from "effect/Effect"
 *
 * const exec = { apiVersion: "client.authentication.k8s.io/v1", command: "./bin/credential" }
 * const prepared = await Effect.flatMap(Path.Path, (path) => ExecPlugin.prepare("/home/me/.kube/config", "me", "/home/me/.kube", path, exec))
 *   .pipe(Effect.provide(Path.layer), Effect.runPromise)
 * assert.equal(prepared.command, "/home/me/.kube/bin/credential")
 * assert.ok(JSON.stringify(prepared.env).includes("KUBERNETES_EXEC_INFO"))
 * ```
 *
 * @module
 */
import * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import type { Cluster } from "@kubernetes/client-node"
import * as Effect from "effect/Effect"
import { KubeConnectionError } from "./KubeConnectionError.ts"

/** A YAML mapping. */
export type Entry = Record<string, unknown>

/** Whether a parsed YAML value is a mapping. */
export const isObject = (u: unknown): u is Entry => typeof u === "object" && u !== null && !Array.isArray(u)

/** The exec credential API versions accepted from plugins. */
export const apiVersions: ReadonlyArray<string> = [
  "client.authentication.k8s.io/v1",
  "client.authentication.k8s.io/v1beta1",
]

interface EnvVar {
  readonly name: string
  readonly value: string
}

/** Checks the `exec` section of user `name` in `file` and returns it ready to run. */
export const prepare = (
  file: string,
  name: string,
  dir: string,
  path: Path.Path,
  exec: Entry,
): Effect.Effect<Entry, KubeConnectionError> => {
  const invalid = (detail: string) =>
    Effect.fail(new KubeConnectionError({ reason: "Invalid", source: file, detail: `user "${name}": ${detail}` }))
  const apiVersion = String(exec.apiVersion ?? "")
  if (!apiVersions.includes(apiVersion)) return invalid(`exec plugin: invalid apiVersion "${apiVersion}"`)
  if (typeof exec.command !== "string" || exec.command === "") return invalid("exec plugin: command is required")
  if (exec.interactiveMode === "Always") {
    return invalid("exec plugin cannot support interactive mode: standard input is not used")
  }
  const env: ReadonlyArray<EnvVar> = Array.isArray(exec.env) ? exec.env : []
  const info = JSON.stringify({ kind: "ExecCredential", apiVersion, spec: { interactive: false } })
  const command = exec.command.includes("/") ? path.resolve(dir, exec.command) : exec.command
  return Effect.succeed({ ...exec, command, env: [...env, { name: "KUBERNETES_EXEC_INFO", value: info }] })
}

/** Adds `spec.cluster` to the plugin's `KUBERNETES_EXEC_INFO`, as client-go does for `provideClusterInfo`. */
export const provideClusterInfo = (
  exec: Entry,
  cluster: Cluster,
  server: string,
): Effect.Effect<void, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const caData = cluster.caData ??
      (cluster.caFile ? btoa(yield* fs.readFileString(cluster.caFile).pipe(Effect.orElseSucceed(() => ""))) : undefined)
    exec.env = (exec.env as ReadonlyArray<EnvVar>).map((entry) => {
      if (entry.name !== "KUBERNETES_EXEC_INFO") return entry
      const info = JSON.parse(entry.value)
      info.spec.cluster = {
        server,
        ...(caData ? { "certificate-authority-data": caData } : {}),
        ...(cluster.tlsServerName ? { "tls-server-name": cluster.tlsServerName } : {}),
        ...(cluster.skipTLSVerify ? { "insecure-skip-tls-verify": true } : {}),
      }
      return { name: entry.name, value: JSON.stringify(info) }
    })
  })
