/**
 * The review routes of the development API server, answered as kube-apiserver answers them: TokenReview (does a bearer
 * token authenticate, and as whom), SelfSubjectReview (`kubectl auth whoami`) and SelfSubjectAccessReview
 * (`kubectl auth can-i`), each under the same authentication and rules as the server's other requests.
 *
 * @module
 */
import { formatTime } from "../../core/TokenRequest.ts"
import * as Status from "../../core/Status.ts"
import type { ApiContext, ApiRequest } from "./Api.ts"
import type { Identity } from "./Auth.ts"
import * as Auth from "./Auth.ts"
import * as GoTypes from "./GoTypes.ts"
import * as ManagedFields from "./ManagedFields.ts"
import * as ProtobufTypes from "./ProtobufTypes.ts"
import * as Reply from "./Reply.ts"

/** The Go type of a TokenReview body, for type errors worded as the real server words them. */
export const tokenReviewType: GoTypes.GoType & { readonly _tag: "Struct" } = GoTypes.goKind("TokenReview", {
  spec: GoTypes.goStruct("TokenReviewSpec", { token: GoTypes.goString, audiences: GoTypes.goStrings }),
})

/** `POST /apis/authentication.k8s.io/v1/tokenreviews`: whether a bearer token authenticates, and as whom. */
export const tokenReview = async (ctx: ApiContext, req: ApiRequest, identity: Identity): Promise<Reply.Reply> => {
  if (!Auth.authorize(ctx.state.rules(), identity, { verb: "create", resource: "tokenreviews" })) {
    return Reply.forbidden({
      user: identity.user,
      verb: "create",
      resource: "tokenreviews",
      group: "authentication.k8s.io",
    })
  }
  const typeError = GoTypes.goTypeError(req.body ?? {}, tokenReviewType)
  if (typeError !== undefined) return GoTypes.cannotBeHandled("TokenReview", typeError)
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

/** `POST .../selfsubjectreviews` (`kubectl auth whoami`): the caller's own identity. */
export const selfSubjectReview = (req: ApiRequest, identity: Identity): Reply.Reply =>
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

/** The Go type of a SelfSubjectAccessReview body. */
export const accessReviewType: GoTypes.GoType & { readonly _tag: "Struct" } = GoTypes.goKind(
  "SelfSubjectAccessReview",
  {
    spec: GoTypes.goStruct("SelfSubjectAccessReviewSpec", {
      resourceAttributes: GoTypes.goStruct(
        "ResourceAttributes",
        Object.fromEntries(ProtobufTypes.resourceAttributeNames.map((f) => [f, GoTypes.goString])),
        true,
      ),
      nonResourceAttributes: GoTypes.goStruct("NonResourceAttributes", {
        path: GoTypes.goString,
        verb: GoTypes.goString,
      }, true),
    }),
  },
)

/** `kubectl auth can-i`: whether the caller may do what the review describes, under the same rules as its requests. */
export const selfSubjectAccessReview = (ctx: ApiContext, req: ApiRequest): Reply.Reply => {
  const typeError = GoTypes.goTypeError(req.body ?? {}, accessReviewType)
  if (typeError !== undefined) return GoTypes.cannotBeHandled("SelfSubjectAccessReview", typeError)
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

/** The Go type of a SelfSubjectReview body (it has no fields of its own). */
export const selfSubjectReviewType: GoTypes.GoType & { readonly _tag: "Struct" } = GoTypes.goKind(
  "SelfSubjectReview",
  {},
)
