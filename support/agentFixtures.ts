/**
 * Agent fixtures for tests and benches: JWT-shaped tokens issued by a fake fetcher at the current `Clock` time (a
 * TestClock's or a simulated one's), token specs like the config produces, and a check of call times against a token
 * bucket.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { TokenSpec } from "../adapters/agent/Config.ts"
import type { TokenFetchError } from "../core/TokenError.ts"
import { cacheKey } from "../core/TokenRequest.ts"
import type { TokenRequest } from "../core/TokenRequest.ts"
import { fakeFetcher } from "./fakeFetcher.ts"
import type { FakeFetcher } from "./fakeFetcher.ts"

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url")

/**
 * A JWT-shaped token with the given claims and a header that claims RS256 over a dummy signature: the agent decodes
 * token files and never verifies them, but refuses to adopt an `alg: none` token (pass `alg` to make one).
 */
export const jwt = (claims: Record<string, unknown>, alg = "RS256"): string =>
  `${b64({ alg, typ: "JWT" })}.${b64(claims)}.c2ln`

export const epoch = Date.UTC(2030, 0, 1)

/** A token spec like the config produces. */
export const spec = (name: string, options: Partial<TokenSpec> = {}): TokenSpec => {
  const expirationSeconds = options.expirationSeconds ?? 3600
  const request: TokenRequest = {
    spec: { ...(options.audiences ? { audiences: options.audiences } : {}), expirationSeconds },
  }
  const namespace = options.namespace ?? "default"
  const serviceAccount = options.serviceAccount ?? name
  return {
    name,
    namespace,
    serviceAccount,
    audiences: options.audiences,
    expirationSeconds,
    jitter: options.jitter ?? 0.1,
    boundObject: undefined,
    file: options.file,
    hooks: options.hooks,
    request,
    key: cacheKey(serviceAccount, namespace, request),
  }
}

export interface Issuer extends FakeFetcher {
  /** Epoch ms of every call. */
  readonly times: Array<number>
  /** Calls per service account. */
  readonly perAccount: Map<string, number>
  /** Server-side cap on the lifetime, in seconds. */
  cap: number | undefined
  /** Fail every call with this while set. */
  failWith: (() => Effect.Effect<never, TokenFetchError>) | undefined
  /** Every token issued. */
  readonly issuedTokens: Array<string>
}

/** A fetcher that issues JWTs at TestClock time (`iat` now, `exp` now + lifetime), recording every call. */
export const issuer = (marker = "MARKER"): Issuer => {
  const times: Array<number> = []
  const perAccount = new Map<string, number>()
  const issuedTokens: Array<string> = []
  let serial = 0
  const self = fakeFetcher((namespace, name, request) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      times.push(now)
      perAccount.set(name, (perAccount.get(name) ?? 0) + 1)
      if (self.failWith !== undefined) return self.failWith()
      const seconds = Math.min(request.spec.expirationSeconds ?? 3600, self.cap ?? Infinity)
      const iat = Math.floor(now / 1000)
      const token = jwt({
        iss: "test",
        sub: `system:serviceaccount:${namespace}:${name}`,
        aud: request.spec.audiences ?? ["https://kubernetes.default.svc"],
        iat,
        nbf: iat,
        exp: iat + seconds,
        marker: `${marker}-${++serial}`,
      })
      issuedTokens.push(token)
      return Effect.succeed({
        ...request,
        spec: { ...request.spec, expirationSeconds: seconds },
        status: { token: Redacted.make(token), expirationTimestamp: new Date((iat + seconds) * 1000) },
      })
    })
  ) as Issuer
  return Object.assign(self, { times, perAccount, issuedTokens, cap: undefined, failWith: undefined })
}

/** Whether call times (in any order) conform to a token bucket (qps, burst) that starts full. */
export const withinBudget = (times: ReadonlyArray<number>, qps: number, burst: number): boolean => {
  const sorted = [...times].sort((a, b) => a - b)
  let level = burst
  let last = sorted[0] ?? 0
  for (const t of sorted) {
    level = Math.min(burst, level + ((t - last) * qps) / 1000)
    last = t
    if (level < 1 - 1e-9) return false
    level -= 1
  }
  return true
}
