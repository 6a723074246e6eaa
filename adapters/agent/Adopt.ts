/**
 * Reusing token files after a restart: a file's `exp` and `iat` claims (decoded with `jose`, not verified) turn it
 * back into a TokenRequest response that the manager can cache under the token's key, so that a restart with valid
 * files makes no TokenRequest. Since the signature is not verified, a file is adopted only when everything says the
 * agent wrote it: a regular file with one link, owned by the agent's user or the configured owner, writable by nobody
 * else, holding a JWT whose header `alg` is not `none`, whose `sub` is the declared service account, whose audiences
 * include the declared ones, whose lifetime (`exp - iat`, or `kubernetes.io.warnafter - iat` for a token the API server
 * extended) is no longer than the one requested, and which has not expired. Anything else is left to be replaced by a fresh TokenRequest, with a warning saying why.
 *
 * The files are a core `TokenStore` ({@link store}): the manager loads a declared token's file on a miss, so an adopted
 * token shares the cache, the single fetch per key, the backoff and the metrics of every other token. The scheduler
 * writes the files after each refresh (with the sink's owner and mode), so the store's `save` writes nothing.
 *
 * @module
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { decodeJwt, decodeProtectedHeader } from "jose"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as TokenStore from "../../core/TokenStore.ts"
import { PrivateFile } from "../platform/PrivateFile.ts"
import type { FileInfo } from "../platform/PrivateFile.ts"
import type { TokenSpec } from "./Config.ts"
import * as FileSink from "./FileSink.ts"

/**
 * Turns a token into the response the manager would have cached, or says why it cannot be adopted: it is not a JWT,
 * its `alg` is `none`, it has no `exp`/`iat` or a lifetime longer than requested, its `sub` or audiences are not the
 * spec's, or it has expired at `nowMillis`. `spec.expirationSeconds` is `exp - iat` and the expiry is `exp` (both taken
 * at `kubernetes.io.warnafter` instead of `exp` for an extended token), so that the manager's refresh point (80 % of
 * the lifetime, or 24 h) and expiry are the ones of the original response. Reasons never contain the token.
 */
export const check = (spec: TokenSpec, token: string, nowMillis: number): Either.Either<TokenRequest, string> => {
  let claims: ReturnType<typeof decodeJwt>
  let alg: unknown
  try {
    claims = decodeJwt(token)
    alg = decodeProtectedHeader(token).alg
  } catch {
    return Either.left("not a JWT")
  }
  if (typeof alg !== "string" || alg.toLowerCase() === "none") return Either.left("an unsigned JWT (alg none)")
  const { iat, sub, aud } = claims
  if (typeof claims.exp !== "number" || typeof iat !== "number" || !(claims.exp > iat)) {
    return Either.left("no valid exp and iat")
  }
  // kube-apiserver extends a pod-bound token requested for 3607 s (kubelet's projected token) to a year, reports the
  // 3607 s in the response's expirationTimestamp, and records that moment as `kubernetes.io.warnafter`. The lifetime
  // the agent was given, and the one it refreshes by, ends there.
  const warnAfter = (claims["kubernetes.io"] as { readonly warnafter?: unknown } | undefined)?.warnafter
  if (warnAfter !== undefined && (typeof warnAfter !== "number" || !(warnAfter > iat && warnAfter <= claims.exp))) {
    return Either.left("an invalid kubernetes.io.warnafter claim")
  }
  const exp = typeof warnAfter === "number" ? warnAfter : claims.exp
  if (exp - iat > spec.expirationSeconds) {
    return Either.left(`a lifetime of ${exp - iat} s, longer than the ${spec.expirationSeconds} s requested`)
  }
  if (!(nowMillis <= exp * 1000)) return Either.left("expired")
  if (sub !== `system:serviceaccount:${spec.namespace}:${spec.serviceAccount}`) {
    return Either.left(sub === undefined ? "no sub claim" : "the sub claim of another service account")
  }
  if (spec.audiences !== undefined && spec.audiences.length > 0) {
    const issued = aud === undefined ? [] : typeof aud === "string" ? [aud] : aud
    if (!spec.audiences.every((audience) => issued.includes(audience))) return Either.left("other audiences")
  }
  return Either.right({
    ...spec.request,
    spec: { ...spec.request.spec, expirationSeconds: exp - iat },
    status: { token: Redacted.make(token), expirationTimestamp: new Date(exp * 1000) },
  })
}

/** {@link check}, without the reason. */
export const fromToken = (spec: TokenSpec, token: string, nowMillis: number): Option.Option<TokenRequest> =>
  Either.getRight(check(spec, token, nowMillis))

/** Why a file with this `fstat` cannot have been written by the agent (owned by `owners`), if it cannot. */
const untrusted = (info: FileInfo, owners: ReadonlyArray<number>): string | undefined =>
  !owners.includes(info.uid)
    ? `owned by uid ${info.uid}, not by the agent's user or the configured owner`
    : (info.mode & 0o022) !== 0
    ? `writable by other users (mode ${info.mode.toString(8).padStart(4, "0")})`
    : info.nlink !== 1
    ? `a file with ${info.nlink} hard links`
    : undefined

/**
 * Reads the spec's token file, if it has one, and returns the response to adopt. A file that is there but cannot be
 * adopted is logged (a warning, or an info line when it merely expired) and left for the next write to replace.
 */
export const fromFile = (
  spec: TokenSpec,
  nowMillis: number,
): Effect.Effect<Option.Option<TokenRequest>, never, PrivateFile | FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const sink = spec.file
    if (sink === undefined) return Option.none()
    const files = yield* PrivateFile
    const refuse = (reason: string) =>
      (reason === "expired"
        ? Effect.logInfo("token file expired; requesting a new token")
        : Effect.logWarning("token file not adopted; requesting a new token")).pipe(
          Effect.annotateLogs({ file: sink.path, reason }),
          Effect.as(Option.none<TokenRequest>()),
        )
    const current = yield* files.read(sink.path).pipe(Effect.either)
    if (Either.isLeft(current)) return yield* refuse(current.left.message)
    if (Option.isNone(current.right)) {
      const there = yield* files.lstat(sink.path).pipe(Effect.orElseSucceed(() => Option.none()))
      return Option.isNone(there) ? Option.none() : yield* refuse(
        there.value.type === "SymbolicLink" ? "a symbolic link" : "not a regular file",
      )
    }
    const { data, info } = current.right.value
    const agent = (yield* files.identity).uid
    const owner = yield* FileSink.ownerIds(sink).pipe(
      Effect.map(({ uid }) => uid),
      Effect.orElseSucceed(() => undefined),
    )
    const problem = untrusted(info, owner === undefined ? [agent] : [agent, owner])
    if (problem !== undefined) return yield* refuse(problem)
    return yield* Either.match(check(spec, new TextDecoder().decode(data).trim(), nowMillis), {
      onLeft: refuse,
      onRight: (response) => Effect.succeed(Option.some(response)),
    })
  })

/**
 * The token files of the declared tokens as a core `TokenStore`: `load` adopts the file of a token declared (by
 * `specs`, read at each load so that a reloaded configuration applies) with the request's key, trying each such
 * token's file in turn; `save` does nothing, since the scheduler writes the files.
 */
export const store = (
  specs: Effect.Effect<ReadonlyArray<TokenSpec>>,
): Effect.Effect<TokenStore.TokenStore, never, PrivateFile | FileSystem.FileSystem> =>
  Effect.map(Effect.context<PrivateFile | FileSystem.FileSystem>(), (context) =>
    TokenStore.make(
      ({ key }) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          for (const spec of yield* specs) {
            if (spec.key !== key || spec.file === undefined) continue
            const adopted = yield* fromFile(spec, now)
            if (Option.isSome(adopted)) return adopted
          }
          return Option.none<TokenRequest>()
        }).pipe(Effect.provide(context)),
      () => Effect.void,
    ))
