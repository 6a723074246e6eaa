/**
 * Exec credential plugins in kubeconfig, run the way client-go runs them: only `client.authentication.k8s.io/v1` and
 * `v1beta1`, a relative command with a path separator resolved against the kubeconfig's directory,
 * `KUBERNETES_EXEC_INFO` in the environment (with `spec.cluster` when `provideClusterInfo` is set), no plugin that
 * insists on an interactive terminal, client-go's checks on the returned `ExecCredential`, and its cache: the
 * credential is reused until `expirationTimestamp` or until a request with it gets a 401.
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
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import type { Cluster } from "@kubernetes/client-node"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as ExecCredentialWire from "./ExecCredentialWire.ts"
import { KubeConnectionError } from "./KubeConnectionError.ts"
import * as KubeWire from "./KubeWire.ts"

/** A YAML mapping. */
export type Entry = Record<string, unknown>

/** Whether a parsed YAML value is a mapping. */
export const isObject = (u: unknown): u is Entry => typeof u === "object" && u !== null && !Array.isArray(u)

/** The exec credential API versions accepted from plugins. */
export const apiVersions: ReadonlyArray<string> = [
  KubeWire.execCredentialApiVersion,
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
  const info = ExecCredentialWire.renderExecCredential({
    kind: "ExecCredential",
    apiVersion,
    spec: { interactive: false },
  })
  const command = exec.command.includes("/") ? path.resolve(dir, exec.command) : exec.command
  return Effect.succeed({ ...exec, command, env: [...env, { name: "KUBERNETES_EXEC_INFO", value: info }] })
}

/** Adds `spec.cluster` to the plugin's `KUBERNETES_EXEC_INFO`, as client-go does for `provideClusterInfo`. */
export const provideClusterInfo = (
  exec: Entry,
  cluster: Cluster,
  server: string,
): Effect.Effect<Entry, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const caData = cluster.caData ??
      (cluster.caFile
        ? Encoding.encodeBase64(yield* fs.readFileString(cluster.caFile).pipe(Effect.orElseSucceed(() => "")))
        : undefined)
    const env = (exec.env as ReadonlyArray<EnvVar>).map((entry) => {
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
    return { ...exec, env }
  })

/** What a plugin returned: a bearer token, a client certificate and key, or both. */
export interface Credential {
  /** The bearer token, if the plugin returned one. */
  readonly token: Option.Option<Redacted.Redacted<string>>
  /** The client certificate (PEM), returned together with {@link Credential.keyPem}. */
  readonly certPem: string | undefined
  /** The client key (PEM). */
  readonly keyPem: Redacted.Redacted<string> | undefined
  /** When the credential expires (epoch milliseconds); `undefined` when the plugin gave no `expirationTimestamp`. */
  readonly expiresAt: number | undefined
}

/** How long a plugin may run before it is given up on. */
export const timeout: Duration.Duration = Duration.minutes(1)

/** The most output read from a plugin, in bytes; exec credentials are a few kilobytes. */
export const maxOutputBytes = 1 << 20

/**
 * How long the output pipes are still read after the plugin exited. They normally close with it, but a process the
 * plugin left running in the background inherits them and can hold them open for as long as it lives.
 */
export const outputGraceAfterExit: Duration.Duration = Duration.millis(500)

/** What was read from one output pipe so far: the chunks (dropped once over the limit) and the total size. */
interface Output {
  chunks: Array<Uint8Array>
  size: number
}

/** Reads a stream to its end into `into` (so that the plugin never blocks on a full pipe), keeping at most the limit. */
const collect = (stream: Stream.Stream<Uint8Array, PlatformError>, into: Output) =>
  Stream.runForEach(stream, (chunk) =>
    Effect.sync(() => {
      into.size += chunk.length
      if (into.size <= maxOutputBytes) into.chunks.push(chunk)
      else into.chunks = []
    }))

/** The text read; none when it exceeded the limit. */
const text = ({ chunks, size }: Output): Option.Option<string> => {
  if (size > maxOutputBytes) return Option.none()
  const all = new Uint8Array(size)
  chunks.reduce((offset, chunk) => (all.set(chunk, offset), offset + chunk.length), 0)
  return Option.some(new TextDecoder().decode(all))
}

const nonEmpty = (value: string | undefined): string | undefined => value === "" ? undefined : value

/**
 * Reads a plugin's standard output with client-go's checks. Error details name the fields, never their values.
 */
export const parse = (apiVersion: string, stdout: string): Either.Either<Credential, string> => {
  const decoded = ExecCredentialWire.parseExecCredential(stdout)
  if (Either.isLeft(decoded)) return Either.left(`decoding stdout: ${decoded.left}`)
  const raw = decoded.right
  if (raw.apiVersion !== apiVersion) {
    return Either.left(
      `exec plugin is configured to use API version ${apiVersion}, plugin returned version ${raw.apiVersion}`,
    )
  }
  if (raw.status === undefined) return Either.left("exec plugin didn't return a status field")
  const token = nonEmpty(raw.status.token)
  const certPem = nonEmpty(raw.status.clientCertificateData)
  const keyPem = nonEmpty(raw.status.clientKeyData)
  if (token === undefined && certPem === undefined && keyPem === undefined) {
    return Either.left("exec plugin didn't return a token or cert/key pair")
  }
  if ((certPem === undefined) !== (keyPem === undefined)) {
    return Either.left("exec plugin returned only certificate or key, not both")
  }
  const expiration = nonEmpty(raw.status.expirationTimestamp)
  const expiresAt = expiration !== undefined ? Date.parse(expiration) : undefined
  if (expiresAt !== undefined && Number.isNaN(expiresAt)) {
    return Either.left("exec plugin returned an invalid status.expirationTimestamp")
  }
  return Either.right({
    token: Option.map(Option.fromNullable(token), Redacted.make),
    certPem,
    keyPem: keyPem !== undefined ? Redacted.make(keyPem) : undefined,
    expiresAt,
  })
}

const last = (stderr: string): string => {
  const line = stderr.trim().split("\n").at(-1) ?? ""
  return line === "" ? "" : `: ${line.slice(0, 200)}`
}

/**
 * Runs a prepared plugin once: standard input closed, the environment extended with `exec.env`, standard error kept
 * for the message (its last line) when it fails. The run ends when the plugin process exits, with what it wrote
 * until then (and within {@link outputGraceAfterExit}), even if a process it started still holds its output open.
 */
export const run = (
  source: string,
  exec: Entry,
): Effect.Effect<Credential, KubeConnectionError, CommandExecutor.CommandExecutor> => {
  const command = String(exec.command)
  const fail = (detail: string) => new KubeConnectionError({ reason: "Credentials", source, detail })
  const env = Object.fromEntries((exec.env as ReadonlyArray<EnvVar>).map((e) => [e.name, String(e.value)]))
  const args = Array.isArray(exec.args) ? exec.args.map(String) : []
  return Effect.gen(function* () {
    const child = yield* Command.make(command, ...args).pipe(Command.env(env), Command.feed(""), Command.start)
    const out: Output = { chunks: [], size: 0 }
    const err: Output = { chunks: [], size: 0 }
    const reading = yield* Effect.fork(
      Effect.all([collect(child.stdout, out), collect(child.stderr, err)], { concurrency: 2, discard: true }),
    )
    const code = yield* child.exitCode
    // Finish with the process, not with its pipes: a background child may keep them open after the plugin exited.
    yield* Effect.timeoutOption(Fiber.join(reading), outputGraceAfterExit)
    yield* Fiber.interrupt(reading)
    const stdout = text(out)
    if (code !== 0) {
      const tail = last(Option.getOrElse(text(err), () => ""))
      return yield* fail(`exec: executable ${command} failed with exit code ${code}${tail}`)
    }
    if (Option.isNone(stdout)) return yield* fail(`exec plugin printed more than ${maxOutputBytes} bytes`)
    return yield* Either.match(parse(String(exec.apiVersion), stdout.value), {
      onLeft: (detail) => Effect.fail(fail(detail)),
      onRight: Effect.succeed,
    })
  }).pipe(
    Effect.scoped,
    Effect.catchIf(
      (error): error is PlatformError => error._tag !== "KubeConnectionError",
      (error) =>
        fail(
          error._tag === "SystemError" && error.reason === "NotFound"
            ? `exec: executable ${command} not found`
            : `exec: cannot run ${command}: ${error.message}`,
        ),
    ),
    Effect.timeoutFail({ duration: timeout, onTimeout: () => fail(`exec: executable ${command} timed out`) }),
  )
}

/** A plugin's credential, cached like client-go: reused until it expires or a request using it is refused. */
export interface CachedCredential {
  /** The cached credential, or a fresh one from the plugin. */
  readonly get: Effect.Effect<Credential, KubeConnectionError>
  /** Drops the cached credential (after a 401), so that the next `get` runs the plugin. */
  readonly invalidate: Effect.Effect<void>
}

/** Caches {@link run}; concurrent callers share one run of the plugin. */
export const cached = (
  source: string,
  exec: Entry,
): Effect.Effect<CachedCredential, never, CommandExecutor.CommandExecutor> =>
  Effect.gen(function* () {
    const context = yield* Effect.context<CommandExecutor.CommandExecutor>()
    const lock = yield* Effect.makeSemaphore(1)
    let current: Credential | undefined
    const fresh = (now: number) =>
      current !== undefined && (current.expiresAt === undefined || now < current.expiresAt) ? current : undefined
    const get = lock.withPermits(1)(
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const hit = fresh(now)
        return hit !== undefined ? Effect.succeed(hit) : Effect.tap(run(source, exec), (c) => {
          current = c
        })
      }),
    ).pipe(Effect.provide(context))
    return { get, invalidate: Effect.sync(() => (current = undefined)) }
  })
