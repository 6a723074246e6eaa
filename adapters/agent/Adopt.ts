/**
 * Reusing token files after a restart: a file's `exp` and `iat` claims (decoded with `jose`, not verified: the agent
 * wrote the file itself) turn it back into a TokenRequest response that the manager can cache under the token's key,
 * so that a restart with valid files makes no TokenRequest. A file is adopted only when it is a JWT for the declared
 * service account and audiences and has not expired.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { decodeJwt } from "jose"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import type { PrivateFile } from "../platform/PrivateFile.ts"
import type { TokenSpec } from "./Config.ts"
import * as FileSink from "./FileSink.ts"

/**
 * Turns a token into the response the manager would have cached, or `None` when the token does not belong to the
 * spec, has no `exp`/`iat`, or has expired at `nowMillis`. `spec.expirationSeconds` is `exp - iat`, so that the
 * manager's refresh point (80 % of the lifetime, or 24 h) is the one of the original response.
 */
export const fromToken = (spec: TokenSpec, token: string, nowMillis: number): Option.Option<TokenRequest> => {
  let claims: ReturnType<typeof decodeJwt>
  try {
    claims = decodeJwt(token)
  } catch {
    return Option.none()
  }
  const { exp, iat, sub, aud } = claims
  if (typeof exp !== "number" || typeof iat !== "number" || !(exp > iat)) return Option.none()
  if (!(nowMillis <= exp * 1000)) return Option.none()
  if (sub !== undefined && sub !== `system:serviceaccount:${spec.namespace}:${spec.serviceAccount}`) {
    return Option.none()
  }
  if (spec.audiences !== undefined && spec.audiences.length > 0) {
    const issued = aud === undefined ? [] : typeof aud === "string" ? [aud] : aud
    if (!spec.audiences.every((audience) => issued.includes(audience))) return Option.none()
  }
  return Option.some({
    ...spec.request,
    spec: { ...spec.request.spec, expirationSeconds: exp - iat },
    status: { token: Redacted.make(token), expirationTimestamp: new Date(exp * 1000) },
  })
}

/** Reads the spec's token file, if it has one, and returns the response to adopt. */
export const fromFile = (
  spec: TokenSpec,
  nowMillis: number,
): Effect.Effect<Option.Option<TokenRequest>, never, PrivateFile> =>
  spec.file === undefined ? Effect.succeed(Option.none()) : FileSink.read(spec.file.path).pipe(
    Effect.map(Option.flatMap((text) => fromToken(spec, text.trim(), nowMillis))),
  )
