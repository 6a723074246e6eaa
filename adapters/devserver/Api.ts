/**
 * The Kubernetes-facing routes of the development API server: health, version, discovery, OIDC, TokenRequest, the
 * reviews (`Reviews.ts`) and read access to namespaces, service accounts, pods, secrets and nodes (`Reads.ts`).
 * Unknown paths get kube-apiserver's 404 Status.
 *
 * @module
 */
import type { Identity } from "./Auth.ts"
import * as Auth from "./Auth.ts"
import * as Body from "./Body.ts"
import * as GoTypes from "./GoTypes.ts"
import * as NodeAuthorizer from "./NodeAuthorizer.ts"
import * as NonResource from "./NonResource.ts"
import { read } from "./Reads.ts"
import * as Reply from "./Reply.ts"
import * as Reviews from "./Reviews.ts"
import type * as RequestInfo from "./RequestInfo.ts"
import type { Signer } from "./Signer.ts"
import type { DevState } from "./State.ts"
import type { TokenConfig } from "./TokenEndpoint.ts"
import { createToken, tokenRequestType } from "./TokenEndpoint.ts"

/** What the routes need from the server. */
export interface ApiContext {
  readonly config: TokenConfig
  readonly state: DevState
  readonly signer: Signer
  readonly url: () => string
  readonly onTokenIssued: () => void
  /** The server's clock, for the ages of a Table sent in a watch. */
  readonly now: () => Date
}

/** One authenticated (or anonymous) request with its parsed body. */
export interface ApiRequest {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  /** What the request asks for. */
  readonly info: RequestInfo.RequestInfo
  /** The `Accept` header (a Table is sent when it asks for one). */
  readonly accept?: string | undefined
  /** The decoded body (JSON, or protobuf turned into JSON), `undefined` when empty. */
  readonly body: unknown
  /** The caller ({@link Auth.anonymous} without credentials), after impersonation. */
  readonly identity: Identity
  readonly now: Date
  /** The `User-Agent` header (the field manager of the objects a create returns). */
  readonly userAgent?: string | undefined
  /** The `If-None-Match` header (aggregated discovery answers 304 to its entity tag). */
  readonly ifNoneMatch?: string | undefined
}

/** The kind a request's body must be, for the messages about a body that cannot be read. */
export const bodyKind = (path: string): string | undefined =>
  tokenPath.test(path) ? "TokenRequest" : ({
    "/apis/authentication.k8s.io/v1/tokenreviews": "TokenReview",
    "/apis/authentication.k8s.io/v1/selfsubjectreviews": "SelfSubjectReview",
    "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews": "SelfSubjectAccessReview",
  } as Record<string, string>)[path]

/**
 * kube-apiserver's 403 for a request the caller may not make; `verb` replaces the request's verb in the message (an
 * impersonation denial says `impersonate-on:<mode>:<verb>`).
 */
export const forbiddenFor = (info: RequestInfo.RequestInfo, user: string, verb: string = info.verb): Reply.Reply =>
  info._tag === "NonResource" ? Reply.forbiddenPath(user, verb, info.path) : Reply.forbidden({
    user,
    verb,
    resource: info.resource,
    ...(info.subresource === undefined ? {} : { subresource: info.subresource }),
    group: info.group,
    ...(info.namespace === undefined ? {} : { namespace: info.namespace }),
    ...(info.name === undefined ? {} : { name: info.name }),
  })

/**
 * Authorizes a request from its method, path and query alone, before its body is read: `undefined` when allowed,
 * else the 403 to answer. Anonymous callers get the same answers as everyone else, as `system:anonymous`.
 */
export const authorizeRequest = (
  ctx: ApiContext,
  identity: Identity,
  info: RequestInfo.RequestInfo,
): Reply.Reply | undefined => {
  if (info._tag === "NonResource") {
    return Auth.authorizePath(identity, info.verb, info.path) ? undefined : forbiddenFor(info, identity.user)
  }
  // the Node authorizer first (as --authorization-mode=Node,RBAC orders them), then the rules
  const node = info.verb === "create" && info.group === "" && info.resource === "serviceaccounts" &&
      info.subresource === "token" && info.namespace !== undefined && info.name !== undefined
    ? NodeAuthorizer.tokenRequest(ctx.state, identity, info.namespace, info.name)
    : { _tag: "NoOpinion" as const, reason: undefined }
  if (node._tag === "Allow") return undefined
  const allowed = Auth.authorizeResource(ctx.state.rules(), identity, {
    verb: info.verb,
    group: info.group,
    resource: info.subresource === undefined ? info.resource : `${info.resource}/${info.subresource}`,
    namespace: info.namespace,
    name: info.name,
  })
  if (allowed) return undefined
  return node.reason === undefined || info.namespace === undefined || info.name === undefined
    ? forbiddenFor(info, identity.user)
    : Reply.forbidden({
      user: identity.user,
      verb: info.verb,
      resource: info.resource,
      subresource: "token",
      group: "",
      namespace: info.namespace,
      name: info.name,
      reason: node.reason,
    })
}

const tokenPath = /^\/api\/v1\/namespaces\/([^/]*)\/serviceaccounts\/([^/]+)\/token$/
const namespaced = /^\/api\/v1\/namespaces\/([^/]+)\/(serviceaccounts|pods|secrets)(?:\/([^/]+))?$/
const clusterList = /^\/api\/v1\/(namespaces|serviceaccounts|pods|secrets|nodes)(?:\/([^/]+))?$/

/** Whether a path is under the API trees, where a miss is a 404 Status; elsewhere it is the plain-text 404 page. */
const isApiPath = (path: string): boolean =>
  path === "/api" || path === "/apis" || path.startsWith("/api/") || path.startsWith("/apis/")

const bodyTypes: Readonly<Record<string, GoTypes.GoType & { readonly _tag: "Struct" }>> = {
  TokenRequest: tokenRequestType,
  TokenReview: Reviews.tokenReviewType,
  SelfSubjectReview: Reviews.selfSubjectReviewType,
  SelfSubjectAccessReview: Reviews.accessReviewType,
}

const withWarnings = (reply: Reply.Reply, warnings: ReadonlyArray<string>): Reply.Reply => {
  if (warnings.length === 0) return reply
  const more = warnings.map((w) => `299 - ${JSON.stringify(w)}`)
  const warning = [...(reply.headers?.warning === undefined ? [] : [reply.headers.warning]), ...more].join(", ")
  return { ...reply, headers: { ...reply.headers, warning } }
}

/**
 * Routes a request that was already authenticated and authorized. A create's body is checked against its kind's Go
 * types, then for unknown fields as its `fieldValidation` directive says.
 */
export const route = async (ctx: ApiContext, req: ApiRequest): Promise<Reply.Reply> => {
  const kind = req.method === "POST" ? bodyKind(req.path) : undefined
  if (kind === undefined) return routeChecked(ctx, req)
  const type = bodyTypes[kind]!
  // a create needs a body, at least its type
  if (req.body === undefined) {
    return Body.unrecognized(
      kind,
      "couldn't get version/kind; json parse error: unexpected end of JSON input",
      new Uint8Array(),
    )
  }
  const body = req.body
  const checked = GoTypes.fieldValidation(req.query, kind, {}, type)
  if (checked._tag === "Reply") return checked.reply
  const wrongKind = Body.kindError(body, {
    kind,
    apiVersion: kind === "SelfSubjectAccessReview" ? "authorization.k8s.io/v1" : "authentication.k8s.io/v1",
  })
  if (wrongKind !== undefined) return wrongKind
  const typeError = GoTypes.goTypeError(body, type)
  if (typeError !== undefined) return GoTypes.cannotBeHandled(kind, typeError)
  const validated = GoTypes.fieldValidation(req.query, kind, body, type)
  if (validated._tag === "Reply") return validated.reply
  return withWarnings(await routeChecked(ctx, req), validated.warnings)
}

const routeChecked = async (ctx: ApiContext, req: ApiRequest): Promise<Reply.Reply> => {
  const { method, path, identity } = req
  if (method === "GET") {
    const doc = await NonResource.nonResource(ctx, req)
    if (doc !== undefined) return doc
  }
  const who = identity
  const token = tokenPath.exec(path)
  if (token !== null) {
    if (method !== "POST") return Reply.methodNotAllowed()
    const [, namespace = "", name = ""] = token
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
    return method === "POST" ? Reviews.tokenReview(ctx, req, who) : Reply.methodNotAllowed()
  }
  if (path === "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") {
    return method === "POST" ? Reviews.selfSubjectAccessReview(ctx, req) : Reply.methodNotAllowed()
  }
  if (path === "/apis/authentication.k8s.io/v1/selfsubjectreviews") {
    return method === "POST" ? Reviews.selfSubjectReview(req, who) : Reply.methodNotAllowed()
  }
  if (method === "GET") {
    const ns = namespaced.exec(path)
    if (ns !== null) return read(ctx, req, ns[2]!, ns[1], ns[3])
    const cluster = clusterList.exec(path)
    if (cluster !== null) {
      const [, resource = "", name] = cluster
      return resource === "namespaces" || resource === "nodes"
        ? read(ctx, req, resource, undefined, name)
        : name === undefined
        ? read(ctx, req, resource)
        : Reply.pathNotFound()
    }
  }
  return isApiPath(path) ? Reply.pathNotFound() : Reply.pageNotFound()
}
