/**
 * Service-account token signing and verification for the development API server: an ES256 key, its `kid` derived
 * from the public key as kube-apiserver derives it (base64url SHA-256 of the PKIX DER), the JWKS and OpenID discovery
 * documents, and the claims of a TokenRequest token (`iss`, `sub`, `aud`, `exp`, `iat`, `nbf`, `jti` and the
 * `kubernetes.io` claim with namespace, service account and bound object).
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as jose from "jose"
import { DevServerError } from "./DevServerError.ts"

/** A `{ name, uid }` reference inside the `kubernetes.io` claim. */
export interface Ref {
  readonly name: string
  readonly uid?: string
}

/** The private `kubernetes.io` claim. */
export interface KubernetesClaim {
  readonly namespace: string
  readonly serviceaccount: { readonly name: string; readonly uid: string }
  readonly pod?: Ref
  readonly secret?: Ref
  readonly node?: Ref
  readonly warnafter?: number
}

/** The claims of a service-account token. */
export interface Claims {
  readonly aud: ReadonlyArray<string>
  readonly exp: number
  readonly iat: number
  readonly iss: string
  readonly jti: string
  readonly nbf: number
  readonly sub: string
  readonly "kubernetes.io": KubernetesClaim
}

/** A signing key and what the server publishes about it. */
export interface Signer {
  readonly kid: string
  readonly alg: "ES256"
  readonly issuer: string
  readonly jwks: { readonly keys: ReadonlyArray<jose.JWK> }
  readonly sign: (claims: Claims) => Promise<string>
  /** Checks the signature, the algorithm and the issuer; returns the payload (time checks are the caller's). */
  readonly verify: (token: string) => Promise<Claims>
}

const base64url = (bytes: ArrayBuffer): string => Encoding.encodeBase64Url(new Uint8Array(bytes))

/** Creates a fresh ES256 signer for the issuer. */
export const makeSignerAsync = async (issuer: string): Promise<Signer> => {
  const keys = (await globalThis.crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair
  const spki = await globalThis.crypto.subtle.exportKey("spki", keys.publicKey)
  const kid = base64url(await globalThis.crypto.subtle.digest("SHA-256", spki))
  const jwk = await jose.exportJWK(keys.publicKey)
  const header: jose.JWTHeaderParameters = { alg: "ES256", kid }
  return {
    kid,
    alg: "ES256",
    issuer,
    jwks: { keys: [{ ...jwk, use: "sig", kid, alg: "ES256" }] },
    sign: (claims) =>
      new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader(header).sign(
        keys.privateKey,
      ),
    verify: async (token) => {
      const { payload, protectedHeader } = await jose.compactVerify(token, keys.publicKey, { algorithms: ["ES256"] })
      if (protectedHeader.kid !== undefined && protectedHeader.kid !== kid) throw new Error("unknown key id")
      const claims = JSON.parse(new TextDecoder().decode(payload)) as Claims
      if (claims.iss !== issuer) throw new Error("token issuer is not recognized")
      return claims
    },
  }
}

/** Creates a fresh ES256 signer for the issuer. */
export const makeSigner = (issuer: string): Effect.Effect<Signer, DevServerError> =>
  Effect.tryPromise({
    try: () => makeSignerAsync(issuer),
    catch: (e) => new DevServerError({ reason: "Keys", description: String(e) }),
  })

/** The OpenID provider configuration kube-apiserver serves at `/.well-known/openid-configuration`. */
export const openidConfiguration = (issuer: string, jwksUri: string): Record<string, unknown> => ({
  issuer,
  jwks_uri: jwksUri,
  response_types_supported: ["id_token"],
  subject_types_supported: ["public"],
  id_token_signing_alg_values_supported: ["ES256"],
})

/** What a TokenRequest token is bound to, with the live UIDs. */
export interface Binding {
  readonly pod?: Ref
  readonly secret?: Ref
  readonly node?: Ref
}

/** The inputs of {@link claimsFor}. */
export interface ClaimsInput {
  readonly issuer: string
  readonly audiences: ReadonlyArray<string>
  readonly namespace: string
  readonly serviceAccount: { readonly name: string; readonly uid: string }
  readonly binding: Binding
  /** Issue time, whole seconds. */
  readonly iat: number
  /** JWT lifetime in seconds (the extended one for extended tokens). */
  readonly lifetime: number
  /** Set on extended tokens: `iat + 3607`. */
  readonly warnafter?: number | undefined
  readonly jti: string
}

/** Builds a token's claims (keys in the order kube-apiserver's JSON puts them, empty fields omitted). */
export const claimsFor = (input: ClaimsInput): Claims => ({
  aud: input.audiences,
  exp: input.iat + input.lifetime,
  iat: input.iat,
  iss: input.issuer,
  jti: input.jti,
  "kubernetes.io": {
    namespace: input.namespace,
    ...(input.binding.node ? { node: input.binding.node } : {}),
    ...(input.binding.pod ? { pod: input.binding.pod } : {}),
    ...(input.binding.secret ? { secret: input.binding.secret } : {}),
    serviceaccount: input.serviceAccount,
    ...(input.warnafter === undefined ? {} : { warnafter: input.warnafter }),
  },
  nbf: input.iat,
  sub: `system:serviceaccount:${input.namespace}:${input.serviceAccount.name}`,
})
