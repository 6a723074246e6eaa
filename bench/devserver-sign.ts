/**
 * Signing throughput of the development API server on one core (one JavaScript thread):
 *
 * - baseline: a bare WebCrypto ECDSA P-256 signature over a payload of a token's size;
 * - sign: the server's ES256 signer (jose) over a service-account token's claims (iss, sub, aud, iat, nbf, exp and the
 *   kubernetes.io block);
 * - TokenRequest: the whole handler (lookups, validation, claims, signing, response body), without HTTP.
 *
 * Run: `node --import tsx bench/devserver-sign.ts` (also `npx deno run -A` / `npx bun` with the same file).
 */
import * as Signer from "../adapters/devserver/Signer.ts"
import * as State from "../adapters/devserver/State.ts"
import { defaultState } from "../adapters/devserver/StateFile.ts"
import { createToken } from "../adapters/devserver/TokenEndpoint.ts"

const seconds = Number(process.env.BENCH_SECONDS ?? 2)

const measure = async (name: string, op: () => Promise<unknown>): Promise<number> => {
  for (let i = 0; i < 200; i++) await op()
  const end = performance.now() + seconds * 1000
  let n = 0
  const start = performance.now()
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) await op()
    n += 50
  }
  const rate = n / ((performance.now() - start) / 1000)
  console.log(`${name.padEnd(14)} ${Math.round(rate).toString().padStart(7)} /s`)
  return rate
}

const issuer = "https://kubernetes.default.svc.cluster.local"
const signer = await Signer.makeSignerAsync(issuer)
const state = State.make(defaultState)
const sa = state.serviceAccount("default", "default")!
const claims = Signer.claimsFor({
  issuer,
  audiences: [issuer],
  namespace: "default",
  serviceAccount: { name: sa.name, uid: sa.uid },
  binding: {},
  iat: Math.floor(Date.now() / 1000),
  lifetime: 3600,
  jti: globalThis.crypto.randomUUID(),
})
const payload = new TextEncoder().encode(JSON.stringify(claims) + "x".repeat(120))
const keys = (await globalThis.crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
  "sign",
  "verify",
])) as CryptoKeyPair
const config = {
  issuer,
  apiAudiences: [issuer],
  maxTokenExpirationSeconds: 0,
  extendTokenExpiration: true,
  minTokenExpirationSeconds: 600,
  maxExtendedExpirationSeconds: 31536000,
}
const identity = { user: "kubernetes-admin", groups: ["system:masters"] }

const runtime = "Deno" in globalThis
  ? "deno"
  : process.versions.bun
  ? `bun ${process.versions.bun}`
  : `node ${process.version}`
console.log(`devserver signing throughput, one thread, ${runtime}, ${seconds} s per case`)
const baseline = await measure(
  "baseline",
  () => globalThis.crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, payload),
)
const sign = await measure("sign (jose)", () => signer.sign(claims))
const handler = await measure(
  "TokenRequest",
  () =>
    createToken(config, state, signer, {
      namespace: "default",
      name: "default",
      body: { spec: { audiences: ["vault"], expirationSeconds: 600 } },
      identity,
      now: new Date(),
    }),
)
console.log(`ratios to baseline: sign ${(sign / baseline).toFixed(2)}, TokenRequest ${(handler / baseline).toFixed(2)}`)
