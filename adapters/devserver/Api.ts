/**
 * The Kubernetes-facing routes of the development API server: health, version, discovery, OIDC, TokenRequest,
 * TokenReview, SelfSubjectReview and read access to namespaces, service accounts, pods, secrets and nodes. Unknown
 * paths get kube-apiserver's 404 Status.
 *
 * @module
 */
import { formatTime } from "../../core/TokenRequest.ts"
import type { Identity } from "./Auth.ts"
import * as Auth from "./Auth.ts"
import * as Discovery from "./Discovery.ts"
import * as ManagedFields from "./ManagedFields.ts"
import * as NodeAuthorizer from "./NodeAuthorizer.ts"
import * as Objects from "./Objects.ts"
import * as Reply from "./Reply.ts"
import type { Signer } from "./Signer.ts"
import { openidConfiguration } from "./Signer.ts"
import type { DevState } from "./State.ts"
import type { TokenConfig } from "./TokenEndpoint.ts"
import { createToken } from "./TokenEndpoint.ts"

/** What the routes need from the server. */
export interface ApiContext {
  readonly config: TokenConfig
  readonly state: DevState
  readonly signer: Signer
  readonly url: () => string
  readonly onTokenIssued: () => void
}

/** One authenticated (or anonymous) request with its parsed body. */
export interface ApiRequest {
  readonly method: string
  readonly path: string
  /** The decoded body (JSON, or protobuf turned into JSON), `undefined` when empty. */
  readonly body: unknown
  /** `undefined` for an anonymous request. */
  readonly identity: Identity | undefined
  readonly now: Date
  /** The `User-Agent` header (the field manager of the objects a create returns). */
  readonly userAgent?: string | undefined
}

const publicPaths = new Set([
  "/version",
  "/healthz",
  "/readyz",
  "/livez",
  "/.well-known/openid-configuration",
  "/openid/v1/jwks",
])

/** Whether an anonymous request may go on: only GETs of the health, version and OIDC documents. */
export const allowsAnonymous = (method: string, path: string): boolean => method === "GET" && publicPaths.has(path)

const ok = (body: unknown): Reply.Reply => Reply.json(200, body)
const text = (body: string): Reply.Reply => ({
  status: 200,
  body,
  headers: { "content-type": "text/plain; charset=utf-8" },
})

const tokenPath = /^\/api\/v1\/namespaces\/([^/]*)\/serviceaccounts\/([^/]+)\/token$/
const namespaced = /^\/api\/v1\/namespaces\/([^/]+)\/(serviceaccounts|pods|secrets)(?:\/([^/]+))?$/
const clusterList = /^\/api\/v1\/(namespaces|serviceaccounts|pods|secrets|nodes)(?:\/([^/]+))?$/

const nonResource = (ctx: ApiContext, path: string): Reply.Reply | undefined => {
  switch (path) {
    case "/healthz":
    case "/readyz":
    case "/livez":
      return text("ok")
    case "/version":
      return ok(Discovery.version)
    case "/.well-known/openid-configuration":
      return ok(openidConfiguration(ctx.config.issuer, `${ctx.url()}/openid/v1/jwks`))
    case "/openid/v1/jwks":
      return ok(ctx.signer.jwks)
    case "/api":
      return ok(Discovery.apiVersions(ctx.url().replace(/^https:\/\//, "")))
    case "/api/v1":
      return ok(Discovery.coreV1)
    case "/apis":
      return ok(Discovery.apiGroups)
    case "/apis/authentication.k8s.io":
      return ok(Discovery.authenticationGroup)
    case "/apis/authentication.k8s.io/v1":
      return ok(Discovery.authenticationV1)
    default:
      return undefined
  }
}

const tokenReview = async (ctx: ApiContext, req: ApiRequest, identity: Identity): Promise<Reply.Reply> => {
  if (!Auth.authorize(ctx.state.rules(), identity, { verb: "create", resource: "tokenreviews" })) {
    return Reply.forbidden({
      user: identity.user,
      verb: "create",
      resource: "tokenreviews",
      group: "authentication.k8s.io",
    })
  }
  const spec = ((req.body as { spec?: unknown } | undefined)?.spec ?? {}) as { token?: unknown; audiences?: unknown }
  if (typeof spec.token !== "string" || spec.token === "") {
    return Reply.badRequest("token is required for TokenReview in authentication")
  }
  const requested = Array.isArray(spec.audiences) && spec.audiences.length > 0
    ? spec.audiences.filter((a): a is string => typeof a === "string")
    : ctx.config.apiAudiences
  const result = await Auth.authenticateBearer(
    ctx.signer,
    ctx.state,
    spec.token,
    requested,
    Math.floor(req.now.getTime() / 1000),
  )
  const status = result._tag === "Ok"
    ? {
      authenticated: true,
      user: {
        username: result.identity.user,
        ...(result.identity.uid ? { uid: result.identity.uid } : {}),
        groups: result.identity.groups,
        ...(result.identity.extra ? { extra: result.identity.extra } : {}),
      },
      audiences: result.identity.audiences ?? requested,
    }
    : {
      user: {},
      error: result.error === "invalid bearer token" ? result.error : `[invalid bearer token, ${result.error}]`,
    }
  const managed = ManagedFields.entry(ManagedFields.tokenReviewFields(req.body), {
    userAgent: req.userAgent,
    apiVersion: "authentication.k8s.io/v1",
    now: req.now,
  })
  return Reply.json(201, {
    kind: "TokenReview",
    apiVersion: "authentication.k8s.io/v1",
    metadata: managed === undefined ? {} : { managedFields: [managed] },
    spec: { token: spec.token, ...(Array.isArray(spec.audiences) ? { audiences: spec.audiences } : {}) },
    status,
  })
}

const selfSubjectReview = (req: ApiRequest, identity: Identity): Reply.Reply =>
  Reply.json(201, {
    kind: "SelfSubjectReview",
    apiVersion: "authentication.k8s.io/v1",
    metadata: { creationTimestamp: formatTime(req.now) },
    status: {
      userInfo: {
        username: identity.user,
        ...(identity.uid ? { uid: identity.uid } : {}),
        groups: identity.groups,
        ...(identity.extra ? { extra: identity.extra } : {}),
      },
    },
  })

const read = (
  ctx: ApiContext,
  identity: Identity,
  resource: string,
  namespace?: string,
  name?: string,
): Reply.Reply => {
  const verb = name === undefined ? "list" : "get"
  if (!Auth.authorize(ctx.state.rules(), identity, { verb, resource, namespace, name })) {
    return Reply.forbidden({
      user: identity.user,
      verb,
      resource,
      group: "",
      ...(namespace === undefined ? {} : { namespace }),
      ...(name === undefined ? {} : { name }),
    })
  }
  return Objects.read(ctx.state, resource, namespace, name)
}

/** Whether a path is under the API trees, where a miss is a 404 Status; elsewhere it is the plain-text 404 page. */
const isApiPath = (path: string): boolean =>
  path === "/api" || path === "/apis" || path.startsWith("/api/") || path.startsWith("/apis/")

/** Routes a request whose credentials were already checked (`identity` undefined: anonymous). */
export const route = async (ctx: ApiContext, req: ApiRequest): Promise<Reply.Reply> => {
  const { method, path, identity } = req
  if (identity === undefined && !allowsAnonymous(method, path)) return Reply.unauthorized()
  if (method === "GET") {
    const doc = nonResource(ctx, path)
    if (doc !== undefined) return doc
  }
  const who = identity as Identity
  const token = tokenPath.exec(path)
  if (token !== null) {
    if (method !== "POST") return Reply.methodNotAllowed()
    const [, namespace = "", name = ""] = token
    const attributes = { verb: "create", resource: "serviceaccounts/token", namespace, name }
    // the Node authorizer first (as --authorization-mode=Node,RBAC orders them), then the rules
    const node = NodeAuthorizer.tokenRequest(ctx.state, who, namespace, name)
    if (node._tag !== "Allow" && !Auth.authorize(ctx.state.rules(), who, attributes)) {
      return Reply.forbidden({
        ...attributes,
        user: who.user,
        resource: "serviceaccounts",
        subresource: "token",
        group: "",
        ...(node.reason === undefined ? {} : { reason: node.reason }),
      })
    }
    const reply = await createToken(ctx.config, ctx.state, ctx.signer, {
      namespace,
      name,
      body: req.body,
      identity: who,
      now: req.now,
      userAgent: req.userAgent,
    })
    if (reply.status === 201) ctx.onTokenIssued()
    return reply
  }
  if (path === "/apis/authentication.k8s.io/v1/tokenreviews") {
    return method === "POST" ? tokenReview(ctx, req, who) : Reply.methodNotAllowed()
  }
  if (path === "/apis/authentication.k8s.io/v1/selfsubjectreviews") {
    return method === "POST" ? selfSubjectReview(req, who) : Reply.methodNotAllowed()
  }
  if (method === "GET") {
    const ns = namespaced.exec(path)
    if (ns !== null) return read(ctx, who, ns[2]!, ns[1], ns[3])
    const cluster = clusterList.exec(path)
    if (cluster !== null) {
      const [, resource = "", name] = cluster
      return resource === "namespaces" || resource === "nodes"
        ? read(ctx, who, resource, undefined, name)
        : name === undefined
        ? read(ctx, who, resource)
        : Reply.pathNotFound()
    }
  }
  return isApiPath(path) ? Reply.pathNotFound() : Reply.pageNotFound()
}
