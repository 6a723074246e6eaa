/**
 * A bearer token read from a file and re-read the way client-go's cached file token source does: the content is
 * trimmed, a read is reused while `readAt + period - leeway` is in the future (period 60 s, leeway 10 s), a failed
 * re-read keeps the previous token (logged as `Unable to rotate token`), and a 401 makes the next request re-read.
 * Time comes from Effect's `Clock`, so TestClock drives it.
 *
 * @example A token file, re-read at most once a minute
 * ```ts
 * import assert from "node:assert/strict"
 * import { mkdtempSync, writeFileSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * import { FileToken } from "@sa-token/manager/kube"
 * import * as Runtime from "@sa-token/manager/node"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const path = join(mkdtempSync(join(tmpdir(), "token-")), "token")
 * writeFileSync(path, "first\n")
 * const [a, b] = await Effect.gen(function* () {
 *   const token = yield* FileToken.make(path)
 *   const a = yield* token.get
 *   writeFileSync(path, "second\n")
 *   const b = yield* token.get // within the minute: the first read is reused
 *   return [Redacted.value(a), Redacted.value(b)]
 * }).pipe(Effect.provide(Runtime.layer), Effect.runPromise)
 * assert.deepEqual([a, b], ["first", "first"])
 * ```
 *
 * @module
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { KubeConnectionError } from "./KubeConnectionError.ts"

/** client-go's re-read period, in milliseconds. */
export const periodMillis = 60_000
/** client-go's leeway, in milliseconds: the token is re-read once `period - leeway` has passed since the last read. */
export const leewayMillis = 10_000

/** A token file with its cache. */
export interface FileToken {
  /** The token, from the cache or freshly read. */
  readonly get: Effect.Effect<Redacted.Redacted<string>, KubeConnectionError>
  /** Forgets when the token was read, so that the next `get` re-reads the file (after a 401). */
  readonly invalidate: Effect.Effect<void>
}

interface State {
  readonly token: Option.Option<Redacted.Redacted<string>>
  readonly readAt: number
}

const read = (fs: FileSystem.FileSystem, path: string): Effect.Effect<Redacted.Redacted<string>, KubeConnectionError> =>
  fs.readFileString(path).pipe(
    Effect.mapError((error) =>
      new KubeConnectionError({
        reason: "ReadFailed",
        source: path,
        detail: `failed to read token file "${path}": ${error.message}`,
      })
    ),
    Effect.flatMap((content) => {
      const token = content.trim()
      return token === ""
        ? Effect.fail(
          new KubeConnectionError({
            reason: "Credentials",
            source: path,
            detail: `read empty token from file "${path}"`,
          }),
        )
        : Effect.succeed(Redacted.make(token))
    }),
  )

/** A cached token file. Nothing is read until the first `get`. */
export const make = (path: string): Effect.Effect<FileToken, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const state = yield* Ref.make<State>({ token: Option.none(), readAt: 0 })
    const lock = yield* Effect.makeSemaphore(1)
    const get = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const current = yield* Ref.get(state)
      if (Option.isSome(current.token) && current.readAt + periodMillis - leewayMillis > now) {
        return current.token.value
      }
      return yield* read(fs, path).pipe(
        Effect.tap((token) => Ref.set(state, { token: Option.some(token), readAt: now })),
        Effect.catchAll((error) =>
          Option.isSome(current.token)
            ? Effect.as(Effect.logWarning(`Unable to rotate token: ${error.detail}`), current.token.value)
            : Effect.fail(error)
        ),
      )
    })
    return {
      get: lock.withPermits(1)(get),
      invalidate: Ref.update(state, (s) => ({ ...s, readAt: Number.NEGATIVE_INFINITY })),
    }
  })
