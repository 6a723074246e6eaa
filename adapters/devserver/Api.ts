/**
 * The Kubernetes-facing routes of the development API server: health, version, discovery, OIDC, TokenRequest, the
 * reviews (`Reviews.ts`) and read access to namespaces, service accounts, pods, secrets and nodes. Unknown paths get
 * kube-apiserver's 404 Status.
 *
 * @module
 */
import type { Identity } from "./Auth.ts"
import * as Auth from "./Auth.ts"
import * as Body from "./Body.ts"
import * as GoTypes from "./GoTypes.ts"
import * as NodeAuthorizer from "./NodeAuthorizer.ts"
import * as Objects from "./Objects.ts"
import * as NonResource from "./NonResource.ts"
import * as Reply from "./Reply.ts"
import * as Reviews from "./Reviews.ts"
import type * as RequestInfo from "./RequestInfo.ts"
import type { Signer } from "./Signer.ts"
import type { DevState, StoredObject } from "./State.ts"
import * as Table from "./Table.ts"
import type { TokenConfig } from "./TokenEndpoint.ts"
import { createToken, tokenRequestType } from "./TokenEndpoint.ts"
import * as KubeWire from "../kube/KubeWire.ts"

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

const read = (
  ctx: ApiContext,
  req: ApiRequest,
  resource: string,
  namespace?: string,
  name?: string,
): Reply.Reply => {
  const identity = req.identity
  const verb = name === undefined ? (req.info.verb === "watch" ? "watch" : "list") : "get"
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
  const asTable = Table.wanted(req.accept)
  if (verb === "watch") return watch(ctx, req, resource, namespace, asTable)
  const reply = Objects.read(ctx.state, resource, namespace, name, nameSelected(req.query))
  if (!asTable || reply.status !== 200) return reply
  const body = reply.body as Record<string, unknown>
  const objects = name === undefined ? body.items as ReadonlyArray<Record<string, unknown>> : [body]
  const resourceVersion = (body.metadata as { resourceVersion: string }).resourceVersion
  return Reply.json(200, Table.table(resource, objects, req.now, resourceVersion))
}

/** Whether a path is under the API trees, where a miss is a 404 Status; elsewhere it is the plain-text 404 page. */
const isApiPath = (path: string): boolean =>
  path === "/api" || path === "/apis" || path.startsWith("/api/") || path.startsWith("/apis/")

/** The name a `fieldSelector=metadata.name=<name>` selects, if any. */
const nameSelected = (query: URLSearchParams): string | undefined =>
  /^metadata\.name=(.+)$/.exec(query.get("fieldSelector") ?? "")?.[1]

/**
 * A watch: `{ type, object }` events (objects as Tables when asked, the columns in the first one only), which the
 * handler writes as newline-delimited JSON or protobuf frames. Without a `resourceVersion` (or with `0`) it starts with an ADDED event per object, as a real server does;
 * with one (kubectl's, from its list) it reports the changes after that revision, those made between the list and the
 * watch included. `fieldSelector=metadata.name=N` narrows it to one object; `timeoutSeconds` ends it.
 */
const watch = (
  ctx: ApiContext,
  req: ApiRequest,
  resource: string,
  namespace: string | undefined,
  asTable: boolean,
): Reply.Reply => {
  const only = nameSelected(req.query)
  const rv = req.query.get("resourceVersion")
  const timeoutSeconds = Number(req.query.get("timeoutSeconds") ?? "")
  // timeoutSeconds, else the request's `timeout` (a Go duration, as kubectl's --request-timeout sends it)
  const requested = KubeWire.parseGoDuration(req.query.get("timeout") ?? "") ?? 0n
  const timeout = Number.isInteger(timeoutSeconds) && timeoutSeconds > 0
    ? timeoutSeconds
    : requested > 0n
    ? Number(requested) / 1e9
    : 0
  const matches = (o: StoredObject) =>
    (namespace === undefined || o.namespace === namespace) && (only === undefined || o.name === only)
  return {
    status: 200,
    body: undefined,
    watch: {
      kind: asTable ? "Table" : Objects.kindOf(resource),
      ...(timeout > 0 ? { timeoutMillis: Math.round(timeout * 1000) } : {}),
      start: (emit) => {
        let headers = true
        const send = (type: string, o: Record<string, unknown>) => {
          const resourceVersion = (o.metadata as { resourceVersion: string }).resourceVersion
          const object = asTable ? Table.table(resource, [o], ctx.now(), resourceVersion, headers) : o
          if (asTable && !headers) object.columnDefinitions = null
          headers = false
          emit({ type, object })
        }
        const fromNow = rv === null || rv === "" || rv === "0"
        if (fromNow) {
          // each event's object is whole, with its kind and apiVersion (unlike a list's items)
          for (const o of Objects.list(ctx.state, resource, namespace)) {
            if (matches(o)) send("ADDED", Objects.render(resource, o))
          }
        }
        const since = Number(rv)
        return ctx.state.watch((event) => {
          if (event.resource === resource && matches(event.object)) {
            send(event.type, Objects.render(resource, event.object))
          }
        }, fromNow || !Number.isInteger(since) ? undefined : since)
      },
    },
  }
}

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
