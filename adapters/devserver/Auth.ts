/**
 * Authentication and authorization of the development API server. Credentials, in kube-apiserver's order: a client
 * certificate verified against the server's CA (CN = user, O = groups), a static bearer token from the state, a
 * service-account token this server issued (signature, issuer, audience, times with a 1-minute leeway, and the bound
 * objects still existing with the same UIDs). Authorization: members of `system:masters` may do everything; others
 * need a rule from the state.
 *
 * @module
 */
import type { RuleInput } from "./StateFile.ts"
import type { Claims, Signer } from "./Signer.ts"
import type { DevState } from "./State.ts"

/** An authenticated user, as `SelfSubjectReview` and `TokenReview` report it. */
export interface Identity {
  readonly user: string
  readonly uid?: string | undefined
  readonly groups: ReadonlyArray<string>
  readonly extra?: Readonly<Record<string, ReadonlyArray<string>>> | undefined
  /** The audiences of a service-account token (for TokenReview). */
  readonly audiences?: ReadonlyArray<string> | undefined
}

/** The group of cluster administrators. */
export const mastersGroup = "system:masters"
/** The leeway applied to token times. */
export const leewaySeconds = 60

/** The outcome of checking a service-account token: an identity or kube-apiserver's rejection text. */
export type TokenCheck =
  | { readonly _tag: "Ok"; readonly identity: Identity }
  | { readonly _tag: "Rejected"; readonly error: string }

const rejected = (error: string): TokenCheck => ({ _tag: "Rejected", error })

const withAuthenticated = (groups: ReadonlyArray<string>): ReadonlyArray<string> =>
  groups.includes("system:authenticated") ? groups : [...groups, "system:authenticated"]

const union = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): ReadonlyArray<string> => [
  ...a,
  ...b.filter((g) => !a.includes(g)),
]

/**
 * The identity of a verified client certificate, with the groups the state declares for its user and, given the
 * certificate's SHA-256, the credential ID kube-apiserver puts in the user's extra (`X509SHA256=<hex>`).
 */
export const certIdentity = (
  state: DevState,
  user: string,
  groups: ReadonlyArray<string>,
  fingerprint?: string,
): Identity => ({
  user,
  groups: withAuthenticated(union(groups, state.userGroups(user))),
  ...(fingerprint === undefined
    ? {}
    : { extra: { "authentication.kubernetes.io/credential-id": [`X509SHA256=${fingerprint}`] } }),
})

const looksLikeJwt = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)

/** Whether the token's header names no key ID or this server's (a header that does not parse is left to verify). */
const knownKey = (signer: Signer, token: string): boolean => {
  try {
    const base64 = token.slice(0, token.indexOf(".")).replace(/-/g, "+").replace(/_/g, "/")
    const header = JSON.parse(globalThis.atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "="))) as {
      kid?: unknown
    }
    return typeof header.kid !== "string" || header.kid === "" || header.kid === signer.kid
  } catch {
    return true
  }
}

/**
 * Checks a service-account token issued by this server: signature and issuer, then the times (1-minute leeway), then
 * the audiences (one of `audiences` must be in `aud`), then the service account and bound objects.
 */
export const checkServiceAccountToken = async (
  signer: Signer,
  state: DevState,
  token: string,
  audiences: ReadonlyArray<string>,
  nowSeconds: number,
): Promise<TokenCheck> => {
  if (!looksLikeJwt(token)) return rejected("invalid bearer token")
  // keys are looked up by the header's key ID: a token signed with another key finds none
  if (!knownKey(signer, token)) return rejected("invalid signature, no keys found")
  let claims: Claims
  try {
    claims = await signer.verify(token)
  } catch {
    return rejected("go-jose/go-jose: error in cryptographic primitive")
  }
  if (typeof claims.exp === "number" && nowSeconds > claims.exp + leewaySeconds) {
    return rejected("service account token has expired")
  }
  if (typeof claims.nbf === "number" && nowSeconds < claims.nbf - leewaySeconds) {
    return rejected("service account token is not valid yet")
  }
  if (typeof claims.iat === "number" && nowSeconds < claims.iat - leewaySeconds) {
    return rejected("service account token is issued in the future")
  }
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud as unknown as string]
  const matching = aud.filter((a) => audiences.includes(a))
  if (matching.length === 0) {
    return rejected(
      `token audiences ${JSON.stringify(aud)} is invalid for the target audiences ${JSON.stringify(audiences)}`,
    )
  }
  const k8s = claims["kubernetes.io"]
  if (k8s === undefined || typeof k8s.namespace !== "string" || k8s.serviceaccount === undefined) {
    return rejected("service account token claims are missing")
  }
  const sa = state.serviceAccount(k8s.namespace, k8s.serviceaccount.name)
  // a missing service account is reported as its lookup fails; missing bound objects as an invalidated token
  if (sa === undefined) return rejected(`serviceaccounts ${JSON.stringify(k8s.serviceaccount.name)} not found`)
  if (sa.uid !== k8s.serviceaccount.uid) {
    return rejected(`service account UID (${sa.uid}) does not match claim (${k8s.serviceaccount.uid})`)
  }
  const extra: Record<string, ReadonlyArray<string>> = {
    "authentication.kubernetes.io/credential-id": [`JTI=${claims.jti}`],
  }
  if (k8s.pod !== undefined) {
    const pod = state.pod(k8s.namespace, k8s.pod.name)
    if (pod === undefined) return rejected("service account token has been invalidated")
    if (pod.uid !== k8s.pod.uid) return rejected(`pod UID (${pod.uid}) does not match claim (${k8s.pod.uid})`)
    extra["authentication.kubernetes.io/pod-name"] = [pod.name]
    extra["authentication.kubernetes.io/pod-uid"] = [pod.uid]
  }
  if (k8s.secret !== undefined) {
    const secret = state.secret(k8s.namespace, k8s.secret.name)
    if (secret === undefined) return rejected("service account token has been invalidated")
    if (secret.uid !== k8s.secret.uid) {
      return rejected(`secret UID (${secret.uid}) does not match claim (${k8s.secret.uid})`)
    }
  }
  if (k8s.node !== undefined) {
    const node = state.node(k8s.node.name)
    if (k8s.node.uid !== undefined || k8s.pod === undefined) {
      if (node === undefined) return rejected("service account token has been invalidated")
      if (k8s.node.uid !== undefined && node.uid !== k8s.node.uid) {
        return rejected(`node UID (${node.uid}) does not match claim (${k8s.node.uid})`)
      }
    }
    extra["authentication.kubernetes.io/node-name"] = [k8s.node.name]
    if (k8s.node.uid !== undefined) extra["authentication.kubernetes.io/node-uid"] = [k8s.node.uid]
  }
  return {
    _tag: "Ok",
    identity: {
      user: `system:serviceaccount:${k8s.namespace}:${k8s.serviceaccount.name}`,
      uid: sa.uid,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${k8s.namespace}`, "system:authenticated"],
      extra,
      audiences: matching,
    },
  }
}

/** Authenticates a bearer token: a static token first, then a service-account token. */
export const authenticateBearer = (
  signer: Signer,
  state: DevState,
  token: string,
  apiAudiences: ReadonlyArray<string>,
  nowSeconds: number,
): Promise<TokenCheck> => {
  const stat = state.staticToken(token)
  if (stat !== undefined) {
    return Promise.resolve({
      _tag: "Ok",
      identity: {
        user: stat.user,
        uid: stat.uid,
        groups: withAuthenticated(union(stat.groups, state.userGroups(stat.user))),
      },
    })
  }
  return checkServiceAccountToken(signer, state, token, apiAudiences, nowSeconds)
}

/** What a request wants to do, for {@link authorize}. */
export interface Request {
  readonly verb: string
  /** `serviceaccounts/token`, `pods`, ... */
  readonly resource: string
  readonly namespace?: string | undefined
  readonly name?: string | undefined
}

const matches = (list: ReadonlyArray<string> | undefined, value: string | undefined, fallback: boolean): boolean =>
  list === undefined ? fallback : list.includes("*") || (value !== undefined && list.includes(value))

const allows = (rule: RuleInput, identity: Identity, request: Request): boolean =>
  (matches(rule.users, identity.user, false) || identity.groups.some((g) => matches(rule.groups, g, false))) &&
  matches(rule.verbs ?? ["create"], request.verb, false) &&
  matches(rule.resources ?? ["serviceaccounts/token"], request.resource, false) &&
  matches(rule.namespaces, request.namespace ?? "", true) &&
  matches(rule.names, request.name, true)

/** Whether the identity may make the request: masters always, others when a rule allows it. */
export const authorize = (rules: ReadonlyArray<RuleInput>, identity: Identity, request: Request): boolean =>
  identity.groups.includes(mastersGroup) || rules.some((rule) => allows(rule, identity, request))

/** The user of a request without credentials (anonymous authentication is on, as it is by default). */
export const anonymous: Identity = { user: "system:anonymous", groups: ["system:unauthenticated"] }

/** Paths everyone may read, anonymous callers included (the default `system:public-info-viewer` role). */
const publicInfoPaths: ReadonlyArray<string> = ["/healthz", "/livez", "/readyz", "/version", "/version/"]
/** Paths every authenticated user may read (the default `system:discovery` role). */
const discoveryPaths: ReadonlyArray<string> = [
  ...publicInfoPaths,
  "/api",
  "/api/*",
  "/apis",
  "/apis/*",
  "/openapi",
  "/openapi/*",
]
/** Paths service accounts may read (the default `system:service-account-issuer-discovery` role). */
const issuerDiscoveryPaths: ReadonlyArray<string> = [
  "/.well-known/openid-configuration",
  "/.well-known/openid-configuration/",
  "/openid/v1/jwks",
  "/openid/v1/jwks/",
]
/** Resources every authenticated user may create (the default `system:basic-user` role). */
const selfReviews: ReadonlyArray<string> = [
  "authentication.k8s.io/selfsubjectreviews",
  "authorization.k8s.io/selfsubjectaccessreviews",
  "authorization.k8s.io/selfsubjectrulesreviews",
]

const pathMatches = (patterns: ReadonlyArray<string>, path: string): boolean =>
  patterns.some((p) => p === path || (p.endsWith("*") && path.startsWith(p.slice(0, -1))))

/** Whether the identity may request a path that is not a resource, under the default roles. */
export const authorizePath = (identity: Identity, verb: string, path: string): boolean => {
  if (identity.groups.includes(mastersGroup)) return true
  if (verb !== "get" && verb !== "head") return false
  const groups = identity.groups
  return pathMatches(publicInfoPaths, path) ||
    (groups.includes("system:authenticated") && pathMatches(discoveryPaths, path)) ||
    (groups.includes("system:serviceaccounts") && pathMatches(issuerDiscoveryPaths, path)) ||
    (groups.includes("system:monitoring") && pathMatches(["/metrics", "/healthz/*", "/livez/*", "/readyz/*"], path))
}

/** A resource request, for {@link authorizeResource}. */
export interface ResourceRequest extends Request {
  readonly group: string
}

/** Whether the identity may make a resource request: the default roles, then {@link authorize}'s rules. */
export const authorizeResource = (
  rules: ReadonlyArray<RuleInput>,
  identity: Identity,
  request: ResourceRequest,
): boolean =>
  (request.verb === "create" && identity.groups.includes("system:authenticated") &&
    selfReviews.includes(`${request.group}/${request.resource}`)) ||
  authorize(rules, identity, request)
