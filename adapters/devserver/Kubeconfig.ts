/**
 * The kubeconfig the development API server writes for its admin user: the cluster's URL and CA data, the admin's
 * client certificate and key data, and a current context whose namespace is `default`. Written with mode 0600.
 *
 * @module
 */
import * as fs from "node:fs/promises"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Yaml from "yaml"
import { DevServerError } from "./DevServerError.ts"

/** The parts of a kubeconfig. */
export interface KubeconfigInput {
  readonly server: string
  readonly caPem: string
  readonly certPem: string
  readonly keyPem: string
  readonly user?: string
  readonly name?: string
  readonly namespace?: string
}

const base64 = (text: string): string => Encoding.encodeBase64(text)

/** Renders the kubeconfig YAML. */
export const render = (input: KubeconfigInput): string => {
  const name = input.name ?? "devserver"
  const user = input.user ?? "kubernetes-admin"
  return Yaml.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: input.server, "certificate-authority-data": base64(input.caPem) } }],
    users: [{
      name: user,
      user: { "client-certificate-data": base64(input.certPem), "client-key-data": base64(input.keyPem) },
    }],
    contexts: [{ name: `${user}@${name}`, context: { cluster: name, user, namespace: input.namespace ?? "default" } }],
    "current-context": `${user}@${name}`,
    preferences: {},
  }, { lineWidth: 0 })
}

/** Writes text to a file readable only by its owner (mode 0600, also when the file already existed). */
export const writePrivate = (path: string, text: string): Effect.Effect<void, DevServerError> =>
  Effect.tryPromise({
    try: async () => {
      await fs.writeFile(path, text, { mode: 0o600 })
      await fs.chmod(path, 0o600)
    },
    catch: (e) => new DevServerError({ reason: "Kubeconfig", description: `${path}: ${String(e)}` }),
  })
