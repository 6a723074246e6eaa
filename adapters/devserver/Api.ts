/**
 * The Kubernetes-facing routes of the development API server: health, version, discovery, OIDC, TokenRequest,
 * TokenReview, SelfSubjectReview, SelfSubjectAccessReview and read access to namespaces, service accounts, pods,
 * secrets and nodes. Unknown paths get kube-apiserver's 404 Status.
 *
 * @module
 */
import { formatTime } from "../../core/TokenRequest.ts"
import type { Identity } from "./Auth.ts"
import * as Auth from "./Auth.ts"
import * as Body from "./Body.ts"
import * as Discovery from "./Discovery.ts"
import * as ManagedFields from "./ManagedFields.ts"
import * as NodeAuthorizer from "./NodeAuthorizer.ts"
import * as Objects from "./Objects.ts"
import * as OpenApi from "./OpenApi.ts"
import * as ProtobufTypes from "./ProtobufTypes.ts"
import * as Status from "../../core/Status.ts"
import * as Reply from "./Reply.ts"
import type * as RequestInfo from "./RequestInfo.ts"
import type { Signer } from "./Signer.ts"
import { openidConfiguration } from "./Signer.ts"
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

const ok = (body: unknown): Reply.Reply => Reply.json(200, body)
const text = (body: string): Reply.Reply => ({
  status: 200,
  body,
  headers: { "content-type": "text/plain; charset=utf-8" },
})

const tokenPath = /^\/api\/v1\/namespaces\/([^/]*)\/serviceaccounts\/([^/]+)\/token$/
const namespaced = /^\/api\/v1\/namespaces\/([^/]+)\/(serviceaccounts|pods|secrets)(?:\/([^/]+))?$/
const clusterList = /^\/api\/v1\/(namespaces|serviceaccounts|pods|secrets|nodes)(?:\/([^/]+))?$/

/** The checks `?verbose` lists, in kube-apiserver's format. */
const checks: Readonly<Record<string, ReadonlyArray<string>>> = {
  "/healthz": ["ping", "log", "signer"],
  "/livez": ["ping", "log", "signer"],
  "/readyz": ["ping", "log", "signer", "shutdown"],
}

const health = (path: string, query: URLSearchParams): Reply.Reply =>
  text(
    query.has("verbose") ? `${checks[path]!.map((c) => `[+]${c} ok\n`).join("")}${path.slice(1)} check passed\n` : "ok",
  )

/** kube-apiserver serves the OIDC documents as public, cacheable for an hour. */
/**
 * Whether an `Accept` header admits `produced`, as the go-restful routes serving the OIDC documents decide: no header, a
 * match-all range or the very media type (parameters aside); no other wildcard.
 */
export const accepts = (accept: string | undefined, produced: string): boolean =>
  accept === undefined || accept.trim() === "" ||
  accept.split(",").map((m) => m.split(";")[0]!.trim().toLowerCase()).some((m) => m === "*/*" || m === produced)

const oidc = (accept: string | undefined, body: unknown, contentType: string): Reply.Reply =>
  accepts(accept, contentType)
    ? Reply.json(200, body, { "content-type": contentType, "cache-control": "public, max-age=3600" })
    : Reply.status(
      Status.failure(406, "NotAcceptable", `406: Not Acceptable\n\nAvailable representations: ${contentType}`, {
        details: {},
      }),
    )

/** Aggregated discovery, public and varying with `Accept` as kube-apiserver serves it. */
const aggregated = async (document: Record<string, unknown>, req: ApiRequest): Promise<Reply.Reply> => {
  const etag = await Discovery.etag(document)
  const headers = { "cache-control": "public", etag, vary: "Accept" }
  return req.ifNoneMatch === etag
    ? { status: 304, body: undefined, headers }
    : Reply.json(200, document, { "content-type": Discovery.aggregatedMediaType, ...headers })
}

const nonResource = async (ctx: ApiContext, req: ApiRequest): Promise<Reply.Reply | undefined> => {
  const { path, query } = req
  switch (path) {
    case "/healthz":
    case "/readyz":
    case "/livez":
      return health(path, query)
    case "/version":
      return ok(Discovery.version)
    case "/openapi/v3":
      // served with Go's http.ServeContent under a name without an extension: the type is sniffed, and JSON sniffs as
      // plain text
      return Reply.json(200, OpenApi.index, { "content-type": "text/plain; charset=utf-8" })
    case "/openapi/v2": {
      const v2 = OpenApi.v2(req.accept)
      return Reply.json(200, v2.body, { "content-type": v2.contentType })
    }
    case "/.well-known/openid-configuration":
      return oidc(req.accept, openidConfiguration(ctx.config.issuer, `${ctx.url()}/openid/v1/jwks`), "application/json")
    case "/openid/v1/jwks":
      return oidc(req.accept, ctx.signer.jwks, "application/jwk-set+json")
    case "/api":
      return Discovery.aggregatedWanted(req.accept)
        ? await aggregated(Discovery.aggregatedApi, req)
        : ok(Discovery.apiVersions(ctx.url().replace(/^https:\/\//, "")))
    case "/apis":
      return Discovery.aggregatedWanted(req.accept)
        ? await aggregated(Discovery.aggregatedApis, req)
        : ok(Discovery.apiGroups)
    default: {
      const discovery = Discovery.document(path)
      if (discovery !== undefined) return ok(discovery)
      if (!path.startsWith("/openapi/v3/")) return undefined
      const doc = OpenApi.documents[path.slice("/openapi/v3/".length)]
      // kube-apiserver answers a group-version it has no document for with an empty 404
      return doc === undefined ? { status: 404, body: "" } : ok(doc)
    }
  }
}

const tokenReviewType = Body.goKind("TokenReview", {
  spec: Body.goStruct("TokenReviewSpec", { token: Body.goString, audiences: Body.goStrings }),
})

const tokenReview = async (ctx: ApiContext, req: ApiRequest, identity: Identity): Promise<Reply.Reply> => {
  if (!Auth.authorize(ctx.state.rules(), identity, { verb: "create", resource: "tokenreviews" })) {
    return Reply.forbidden({
      user: identity.user,
      verb: "create",
      resource: "tokenreviews",
      group: "authentication.k8s.io",
    })
  }
  const typeError = Body.goTypeError(req.body ?? {}, tokenReviewType)
  if (typeError !== undefined) return Body.cannotBeHandled("TokenReview", typeError)
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

const accessReviewType = Body.goKind("SelfSubjectAccessReview", {
  spec: Body.goStruct("SelfSubjectAccessReviewSpec", {
    resourceAttributes: Body.goStruct(
      "ResourceAttributes",
      Object.fromEntries(ProtobufTypes.resourceAttributeNames.map((f) => [f, Body.goString])),
      true,
    ),
    nonResourceAttributes: Body.goStruct("NonResourceAttributes", { path: Body.goString, verb: Body.goString }, true),
  }),
})

/** `kubectl auth can-i`: whether the caller may do what the review describes, under the same rules as its requests. */
const selfSubjectAccessReview = (ctx: ApiContext, req: ApiRequest): Reply.Reply => {
  const typeError = Body.goTypeError(req.body ?? {}, accessReviewType)
  if (typeError !== undefined) return Body.cannotBeHandled("SelfSubjectAccessReview", typeError)
  const spec = ((req.body as { spec?: unknown } | undefined)?.spec ?? {}) as {
    resourceAttributes?: Record<string, string | undefined>
    nonResourceAttributes?: Record<string, string | undefined>
  }
  const r = spec.resourceAttributes ?? undefined
  const n = spec.nonResourceAttributes ?? undefined
  if ((r === undefined) === (n === undefined)) {
    const detail = "exactly one of nonResourceAttributes or resourceAttributes must be specified"
    return Reply.status(
      Status.failure(422, "Invalid", `.authorization.k8s.io "" is invalid: spec: Invalid value: null: ${detail}`, {
        details: {
          group: "authorization.k8s.io",
          causes: [{ reason: "FieldValueInvalid", message: `Invalid value: null: ${detail}`, field: "spec" }],
        },
      }),
    )
  }
  const allowed = r !== undefined
    ? Auth.authorizeResource(ctx.state.rules(), req.identity, {
      verb: r.verb ?? "",
      group: r.group ?? "",
      resource: r.subresource ? `${r.resource ?? ""}/${r.subresource}` : r.resource ?? "",
      namespace: r.namespace || undefined,
      name: r.name || undefined,
    })
    : Auth.authorizePath(req.identity, n!.verb ?? "", n!.path ?? "")
  const managed = ManagedFields.entry(ManagedFields.accessReviewFields(req.body), {
    userAgent: req.userAgent,
    apiVersion: "authorization.k8s.io/v1",
    now: req.now,
  })
  // the RBAC authorizer gives the binding that allowed a request as the reason; members of system:masters are allowed
  // before it, without one (the development server's rules have no names: its reason says so)
  const reason = allowed && !req.identity.groups.includes(Auth.mastersGroup)
    ? { reason: "RBAC: allowed by a rule of the development server's state" }
    : {}
  return Reply.json(201, {
    kind: "SelfSubjectAccessReview",
    apiVersion: "authorization.k8s.io/v1",
    metadata: managed === undefined ? {} : { managedFields: [managed] },
    spec: r !== undefined ? { resourceAttributes: r } : { nonResourceAttributes: n },
    status: { allowed, ...reason },
  })
}

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

const selfSubjectReviewType = Body.goKind("SelfSubjectReview", {})

const bodyTypes: Readonly<Record<string, Body.GoType & { readonly _tag: "Struct" }>> = {
  TokenRequest: tokenRequestType,
  TokenReview: tokenReviewType,
  SelfSubjectReview: selfSubjectReviewType,
  SelfSubjectAccessReview: accessReviewType,
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
  const checked = Body.fieldValidation(req.query, kind, {}, type)
  if (checked._tag === "Reply") return checked.reply
  const wrongKind = Body.kindError(body, {
    kind,
    apiVersion: kind === "SelfSubjectAccessReview" ? "authorization.k8s.io/v1" : "authentication.k8s.io/v1",
  })
  if (wrongKind !== undefined) return wrongKind
  const typeError = Body.goTypeError(body, type)
  if (typeError !== undefined) return Body.cannotBeHandled(kind, typeError)
  const validated = Body.fieldValidation(req.query, kind, body, type)
  if (validated._tag === "Reply") return validated.reply
  return withWarnings(await routeChecked(ctx, req), validated.warnings)
}

const routeChecked = async (ctx: ApiContext, req: ApiRequest): Promise<Reply.Reply> => {
  const { method, path, identity } = req
  if (method === "GET") {
    const doc = await nonResource(ctx, req)
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
    return method === "POST" ? tokenReview(ctx, req, who) : Reply.methodNotAllowed()
  }
  if (path === "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") {
    return method === "POST" ? selfSubjectAccessReview(ctx, req) : Reply.methodNotAllowed()
  }
  if (path === "/apis/authentication.k8s.io/v1/selfsubjectreviews") {
    return method === "POST" ? selfSubjectReview(req, who) : Reply.methodNotAllowed()
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
