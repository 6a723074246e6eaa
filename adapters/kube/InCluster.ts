/**
 * The in-cluster connection, as client-go's `rest.InClusterConfig` builds it: the server from
 * `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`, the CA from `ca.crt`, the namespace from `namespace`
 * (`default` when the file is missing) and the service-account token from `token`, read once at start and re-read at
 * most once a minute afterwards (see `FileToken.ts`). The directory is injectable for tests.
 *
 * @example Load the connection of a pod (here from a directory made up for the example)
 * ```ts
 * import assert from "node:assert/strict"
 * import { mkdtempSync, writeFileSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * import { InCluster } from "@sa-token/manager/kube"
 * import * as Runtime from "@sa-token/manager/node"
 * import * as ConfigProvider from "effect/ConfigProvider"
 * import * as Effect from "effect/Effect"
 *
 * const directory = mkdtempSync(join(tmpdir(), "serviceaccount-"))
 * writeFileSync(join(directory, "token"), "a.b.c\n")
 * writeFileSync(join(directory, "ca.crt"), "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n")
 * writeFileSync(join(directory, "namespace"), "apps")
 * const environment = ConfigProvider.fromMap(
 *   new Map([["KUBERNETES_SERVICE_HOST", "10.96.0.1"], ["KUBERNETES_SERVICE_PORT", "443"]]),
 * )
 * const connection = await InCluster.load({ directory }).pipe(
 *   Effect.withConfigProvider(environment),
 *   Effect.provide(Runtime.layer),
 *   Effect.runPromise,
 * )
 * assert.equal(connection.server, "https://10.96.0.1:443")
 * assert.equal(connection.namespace, "apps")
 * ```
 *
 * @module
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as FileToken from "./FileToken.ts"
import { KubeConnectionError } from "./KubeConnectionError.ts"
import type { KubeConnection, Requirements } from "./KubeConnectionService.ts"

/** Where a pod's service-account files are mounted. */
export const defaultDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

/** Options of {@link load}. */
export interface Options {
  /** The directory holding `token`, `ca.crt` and `namespace`. @default defaultDirectory */
  readonly directory?: string | undefined
}

const source = "in-cluster"

const env = (name: string): Effect.Effect<Option.Option<string>> =>
  Config.option(Config.nonEmptyString(name)).pipe(Effect.orElseSucceed(() => Option.none()))

/** Whether the in-cluster environment variables are set. */
export const available: Effect.Effect<boolean> = Effect.map(
  Effect.all([env("KUBERNETES_SERVICE_HOST"), env("KUBERNETES_SERVICE_PORT")]),
  ([host, port]) => Option.isSome(host) && Option.isSome(port),
)

/** Loads the in-cluster connection. */
export const load = (options: Options = {}): Effect.Effect<KubeConnection, KubeConnectionError, Requirements> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const [host, port] = yield* Effect.all([env("KUBERNETES_SERVICE_HOST"), env("KUBERNETES_SERVICE_PORT")])
    if (Option.isNone(host) || Option.isNone(port)) {
      return yield* new KubeConnectionError({
        reason: "NotFound",
        source,
        detail:
          "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined",
      })
    }
    const directory = options.directory ?? defaultDirectory
    const caFile = path.join(directory, "ca.crt")
    const caPem = yield* fs.readFileString(caFile).pipe(
      Effect.mapError((error) =>
        new KubeConnectionError({
          reason: "ReadFailed",
          source,
          detail: `cannot read the cluster CA "${caFile}": ${error.message}`,
        })
      ),
    )
    const namespace = yield* fs.readFileString(path.join(directory, "namespace")).pipe(
      Effect.map((text) => text.trim()),
      Effect.orElseSucceed(() => ""),
    )
    const token = yield* FileToken.make(path.join(directory, "token"))
    yield* token.get
    const hostname = host.value.includes(":") ? `[${host.value}]` : host.value
    return {
      server: `https://${hostname}:${port.value}`,
      namespace: namespace === "" ? "default" : namespace,
      tls: { caPem },
      headers: {},
      bearerToken: Effect.map(token.get, Option.some),
      unauthorized: token.invalidate,
      description: source,
    }
  })
