/**
 * `POST /api/v1/namespaces/{namespace}/serviceaccounts/{name}/token`: kube-apiserver's TokenRequest handler, step by
 * step in kube-apiserver's order (defaulting, name/namespace checks, service account, UID, validation,
 * NodeRestriction, bound object, capping, extension, signing, the 201 response).
 *
 * @module
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { formatTime, quote, TokenRequestJson } from "../../core/TokenRequest.ts"
import type { Identity } from "./Auth.ts"
import * as Auth from "./Auth.ts"
import * as GoTypes from "./GoTypes.ts"
import * as ManagedFields from "./ManagedFields.ts"
import * as Status from "../../core/Status.ts"
import * as Reply from "./Reply.ts"
import type { Binding, Signer } from "./Signer.ts"
import { claimsFor } from "./Signer.ts"
import type { DevState } from "./State.ts"

/** The server flags that shape issued tokens. */
export interface TokenConfig {
  readonly issuer: string
  readonly apiAudiences: ReadonlyArray<string>
  /** `--service-account-max-token-expiration` in seconds; 0 means no cap. */
  readonly maxTokenExpirationSeconds: number
  readonly extendTokenExpiration: boolean
  /** The smallest accepted lifetime (600 s unless lowered for demos). */
  readonly minTokenExpirationSeconds: number
  /** The lifetime of an extended token (1 year). */
  readonly maxExtendedExpirationSeconds: number
}

/** The lifetime a kubelet asks for by default, which marks a token as extendable. */
export const warnOnlyBoundTokenExpirationSeconds = 3607
const group = "authentication.k8s.io"
const maxSeconds = 4294967296

const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? "" : "s"}`

const renderDuration = (seconds: number): string =>
  seconds % 3600 === 0 && seconds >= 3600
    ? plural(seconds / 3600, "hour")
    : seconds % 60 === 0
    ? plural(seconds / 60, "minute")
    : plural(seconds, "second")

/** The Go shape of a TokenRequest body. */
export const tokenRequestType: GoTypes.GoType & { readonly _tag: "Struct" } = GoTypes.goKind("TokenRequest", {
  spec: GoTypes.goStruct("TokenRequestSpec", {
    audiences: GoTypes.goStrings,
    expirationSeconds: GoTypes.goInt64,
    boundObjectRef: GoTypes.goStruct(
      "BoundObjectReference",
      { kind: GoTypes.goString, apiVersion: GoTypes.goString, name: GoTypes.goString, uid: GoTypes.goString },
      true,
    ),
  }),
})

/** JSON `null` leaves a Go field at its zero value: drop it before decoding. */
const withoutNulls = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(withoutNulls)
    : typeof value === "object" && value !== null
    ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]))
    : value

/** The inputs of one TokenRequest. */
export interface TokenCall {
  readonly namespace: string
  readonly name: string
  readonly body: unknown
  readonly identity: Identity
  /** Step 7's `now`, from the server's Clock. */
  readonly now: Date
  /** The `User-Agent` header, the field manager recorded in the response's `managedFields`. */
  readonly userAgent?: string | undefined
}

/** Handles one TokenRequest; the reply is the 201 response or a Status. */
export const createToken = async (
  config: TokenConfig,
  state: DevState,
  signer: Signer,
  call: TokenCall,
): Promise<Reply.Reply> => {
  const { namespace, name, now } = call
  // 1. the namespace must be in the URL
  if (namespace === "") return Reply.badRequest("namespace is required")
  const raw = typeof call.body === "object" && call.body !== null ? call.body as Record<string, unknown> : {}
  const typeError = GoTypes.goTypeError(raw, tokenRequestType)
  if (typeError !== undefined) return GoTypes.cannotBeHandled("TokenRequest", typeError)
  // the server writes the status: whatever a body carries there is dropped, as the Go handler overwrites it
  const { status: _sent, ...unsent } = raw
  const decoded = Schema.decodeUnknownEither(TokenRequestJson)(withoutNulls({ ...unsent, spec: raw.spec ?? {} }))
  if (Either.isLeft(decoded)) {
    return GoTypes.cannotBeHandled("TokenRequest", "the body does not fit the TokenRequest type")
  }
  const request = decoded.right
  // 2, 3. body name and namespace must match the URL
  const bodyName = request.metadata?.name
  if (bodyName !== undefined && bodyName !== "" && bodyName !== name) {
    return Reply.invalid("TokenRequest", group, name, [
      { field: "metadata.name", value: quote(bodyName), detail: "must match the service account name if specified" },
    ])
  }
  // a body namespace other than the URL's is refused before anything else looks at the object
  const bodyNamespace = request.metadata?.namespace
  if (bodyNamespace !== undefined && bodyNamespace !== "" && bodyNamespace !== namespace) {
    return Reply.badRequest("the namespace of the provided object does not match the namespace sent on the request")
  }
  // 4. the namespace, then the service account
  if (state.namespace(namespace) === undefined) return Reply.notFound("namespaces", namespace)
  const sa = state.serviceAccount(namespace, name)
  if (sa === undefined) return Reply.notFound("serviceaccounts", name)
  // 5. the UID in the request
  const uid = request.metadata?.uid
  if (uid !== undefined && uid !== "" && uid !== sa.uid) {
    return Reply.conflict(
      "TokenRequest",
      group,
      name,
      `the UID in the token request (${uid}) does not match the UID of the service account (${sa.uid})`,
    )
  }
  // 6, 7. defaulting
  const audiences = request.spec.audiences !== undefined && request.spec.audiences.length > 0
    ? request.spec.audiences
    : config.apiAudiences
  let expirationSeconds = request.spec.expirationSeconds ?? 3600
  // 8. static validation
  if (expirationSeconds < config.minTokenExpirationSeconds) {
    return Reply.invalid("TokenRequest", group, "", [{
      field: "spec.expirationSeconds",
      value: String(expirationSeconds),
      detail: `may not specify a duration less than ${renderDuration(config.minTokenExpirationSeconds)}`,
    }])
  }
  if (expirationSeconds > maxSeconds) {
    return Reply.invalid("TokenRequest", group, "", [{
      field: "spec.expirationSeconds",
      value: String(expirationSeconds),
      detail: "may not specify a duration larger than 2^32 seconds",
    }])
  }
  const ref = request.spec.boundObjectRef
  // 9. NodeRestriction admission for node identities
  const nodeName = call.identity.groups.includes("system:nodes") && call.identity.user.startsWith("system:node:")
    ? call.identity.user.slice("system:node:".length)
    : undefined
  if (nodeName !== undefined) {
    const deny = (text: string) =>
      Reply.status(
        Status.failure(403, "Forbidden", `serviceaccounts "${name}" is forbidden: ${text}`, {
          details: { name, kind: "serviceaccounts" },
        }),
      )
    if (ref === undefined || ref.apiVersion !== "v1" || ref.kind !== "Pod" || !ref.name) {
      return deny("node requested token not bound to a pod")
    }
    if (!ref.uid) return deny("node requested token with a pod binding without a uid")
    const pod = state.pod(namespace, ref.name)
    if (pod === undefined) return Reply.notFound("pods", ref.name)
    if (pod.uid !== ref.uid) {
      return deny(
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      )
    }
    if (pod.nodeName !== nodeName) return deny("node requested token bound to a pod scheduled on a different node")
    // the node audience restriction (on by default since 1.33): at most one audience, as sent (none stands for the
    // API server's), which one of the pod's projected token volumes must name, unless a rule grants the node the verb
    // request-serviceaccounts-token-audience on that audience as the resource
    const sent = request.spec.audiences ?? []
    if (sent.length > 1) return deny("node may only request 0 or 1 audiences")
    const audience = sent[0] ?? ""
    const used = audience === "" || pod.tokenAudiences.includes(audience)
    if (
      !used && !Auth.authorize(state.rules(), call.identity, {
        verb: "request-serviceaccounts-token-audience",
        resource: audience,
        namespace,
        name,
      })
    ) {
      return deny(`${call.identity.user} is not authorized to request tokens for audience ${quote(audience)}`)
    }
  }
  // 10. the bound object
  let binding: Binding = {}
  if (ref !== undefined) {
    const apiVersion = ref.apiVersion ?? ""
    const slash = apiVersion.indexOf("/")
    const refGroup = slash < 0 ? "" : apiVersion.slice(0, slash)
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1)
    const kind = ref.kind ?? ""
    const refName = ref.name ?? ""
    let actual: string
    if (refGroup === "" && kind === "Pod") {
      const pod = state.pod(namespace, refName)
      if (pod === undefined) return Reply.notFound("pods", refName)
      if (pod.serviceAccountName !== name) {
        return Reply.badRequest(
          `cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`,
        )
      }
      actual = pod.uid
      const node = pod.nodeName === undefined ? undefined : state.node(pod.nodeName)
      binding = {
        pod: { name: pod.name, uid: pod.uid },
        ...(pod.nodeName === undefined
          ? {}
          : { node: node === undefined ? { name: pod.nodeName } : { name: node.name, uid: node.uid } }),
      }
    } else if (refGroup === "" && kind === "Node") {
      const node = state.node(refName)
      if (node === undefined) return Reply.notFound("nodes", refName)
      actual = node.uid
      binding = { node: { name: node.name, uid: node.uid } }
    } else if (refGroup === "" && kind === "Secret") {
      const secret = state.secret(namespace, refName)
      if (secret === undefined) return Reply.notFound("secrets", refName)
      actual = secret.uid
      binding = { secret: { name: secret.name, uid: secret.uid } }
    } else {
      return Reply.badRequest(`cannot bind token to object of type ${refGroup}/${version}, Kind=${kind}`)
    }
    if (ref.uid !== undefined && ref.uid !== "" && ref.uid !== actual) {
      return Reply.conflict(
        kind,
        "",
        refName,
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      )
    }
  }
  // 11. capping
  const headers: Record<string, string> = {}
  if (config.maxTokenExpirationSeconds > 0 && expirationSeconds > config.maxTokenExpirationSeconds) {
    headers.warning =
      `299 - "requested expiration of ${expirationSeconds} seconds shortened to ${config.maxTokenExpirationSeconds} seconds"`
    expirationSeconds = config.maxTokenExpirationSeconds
  }
  // 12. extension of kubelet's default pod-bound tokens
  const extended = config.extendTokenExpiration && binding.pod !== undefined &&
    expirationSeconds === warnOnlyBoundTokenExpirationSeconds &&
    audiences.every((a) => config.apiAudiences.includes(a))
  // 13. signing
  const iat = Math.floor(now.getTime() / 1000)
  const token = await signer.sign(claimsFor({
    issuer: config.issuer,
    audiences,
    namespace,
    serviceAccount: { name: sa.name, uid: sa.uid },
    binding,
    iat,
    lifetime: extended ? config.maxExtendedExpirationSeconds : expirationSeconds,
    warnafter: extended ? iat + warnOnlyBoundTokenExpirationSeconds : undefined,
    jti: globalThis.crypto.randomUUID(),
  }))
  // 14. the response: the managed fields of the request as sent (defaulted), an absent bound object as null
  const managed = ManagedFields.entry(ManagedFields.tokenRequestFields(call.body), {
    userAgent: call.userAgent,
    apiVersion: "authentication.k8s.io/v1",
    now,
    subresource: "token",
  })
  return Reply.json(201, {
    kind: "TokenRequest",
    apiVersion: "authentication.k8s.io/v1",
    metadata: {
      name,
      namespace,
      uid: sa.uid,
      creationTimestamp: formatTime(now),
      ...(managed === undefined ? {} : { managedFields: [managed] }),
    },
    spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
    status: {
      token,
      expirationTimestamp: formatTime(new Date(Math.floor(now.getTime() / 1000) * 1000 + expirationSeconds * 1000)),
    },
  }, headers)
}
