/**
 * OpenAPI v3 for the kinds the development API server serves, enough for kubectl: `GET /openapi/v3` lists one
 * document per group-version (`api/v1`, `apis/authentication.k8s.io/v1`, `apis/authorization.k8s.io/v1`), and each
 * document has the paths (their POST operations take `fieldValidation`, so kubectl validates on the server) and the
 * schemas with `x-kubernetes-group-version-kind` that `kubectl explain` reads. A group-version it does not serve gets
 * an empty 404, as kube-apiserver answers.
 *
 * @module
 */
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire"

type Field =
  | { readonly type: "string" | "integer" | "boolean"; readonly description: string; readonly format?: string }
  | { readonly ref: string; readonly description: string }
  | { readonly array: string; readonly description: string }
  | { readonly map: "string"; readonly description: string }

interface Definition {
  readonly description: string
  readonly properties: Readonly<Record<string, Field>>
  readonly required?: ReadonlyArray<string>
  readonly gvk?: { readonly group: string; readonly version: string; readonly kind: string }
}

const str = (description: string): Field => ({ type: "string", description })
const int = (description: string): Field => ({ type: "integer", description, format: "int64" })

const meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
const typeMeta = {
  apiVersion: str("The versioned schema of this representation of an object."),
  kind: str("The REST resource this object represents, in CamelCase."),
}
const metadataField: Field = { ref: meta, description: "Standard object's metadata." }

const objectMeta: Definition = {
  description: "Metadata that all persisted resources must have.",
  properties: {
    name: str("The name, unique within a namespace."),
    generateName: str("A prefix the server uses to generate a unique name when name is not given."),
    namespace: str("The namespace the object is in; empty for cluster-scoped objects."),
    uid: str("The unique identifier the server gave the object when it was created."),
    resourceVersion: str("The version of the object, for optimistic concurrency and watches."),
    creationTimestamp: { type: "string", format: "date-time", description: "When the object was created (RFC 3339)." },
    labels: { map: "string", description: "Key/value pairs to organize and select objects." },
    annotations: { map: "string", description: "Key/value pairs for arbitrary, non-identifying metadata." },
  },
}

const kind = (group: string, version: string, k: string) => ({ group, version, kind: k })

/** The definition of a kind: its type and object metadata, then its own fields. */
const kindDefinition = (
  gvk: NonNullable<Definition["gvk"]>,
  description: string,
  own: Readonly<Record<string, Field>>,
  required?: ReadonlyArray<string>,
): Definition => ({
  description,
  gvk,
  ...(required === undefined ? {} : { required }),
  properties: { ...typeMeta, metadata: metadataField, ...own },
})

const coreDefinitions: Readonly<Record<string, Definition>> = {
  [meta]: objectMeta,
  "io.k8s.api.core.v1.Namespace": kindDefinition(kind("", "v1", "Namespace"), "Namespace provides a scope for names.", {
    spec: { ref: "io.k8s.api.core.v1.NamespaceSpec", description: "The behavior of the namespace." },
    status: { ref: "io.k8s.api.core.v1.NamespaceStatus", description: "The observed status of the namespace." },
  }),
  "io.k8s.api.core.v1.NamespaceSpec": {
    description: "The attributes of a namespace.",
    properties: { finalizers: { array: "string", description: "Finalizers that must run before it is removed." } },
  },
  "io.k8s.api.core.v1.NamespaceStatus": {
    description: "The status of a namespace.",
    properties: { phase: str("Active or Terminating.") },
  },
  "io.k8s.api.core.v1.ServiceAccount": kindDefinition(
    kind("", "v1", "ServiceAccount"),
    "ServiceAccount binds a name, understood by users and systems, to an identity that can be authenticated.",
    {},
  ),
  "io.k8s.api.core.v1.Secret": kindDefinition(kind("", "v1", "Secret"), "Secret holds secret data of a certain type.", {
    type: str("Used to facilitate programmatic handling of secret data."),
    data: { map: "string", description: "The secret data, base64-encoded." },
  }),
  "io.k8s.api.core.v1.Node": kindDefinition(kind("", "v1", "Node"), "Node is a worker node.", {}),
  "io.k8s.api.core.v1.Pod": kindDefinition(
    kind("", "v1", "Pod"),
    "Pod is a collection of containers that can run on a host.",
    {
      spec: { ref: "io.k8s.api.core.v1.PodSpec", description: "The desired behavior of the pod." },
      status: { ref: "io.k8s.api.core.v1.PodStatus", description: "The most recently observed status of the pod." },
    },
  ),
  "io.k8s.api.core.v1.PodSpec": {
    description: "A description of a pod.",
    required: ["containers"],
    properties: {
      containers: { array: "io.k8s.api.core.v1.Container", description: "The containers of the pod; at least one." },
      volumes: { array: "io.k8s.api.core.v1.Volume", description: "Volumes the pod's containers can mount." },
      serviceAccountName: str("The name of the service account the pod runs as."),
      serviceAccount: str("A deprecated alias of serviceAccountName."),
      nodeName: str("The node the pod is scheduled on."),
    },
  },
  "io.k8s.api.core.v1.Container": {
    description: "A single application container of a pod.",
    required: ["name"],
    properties: {
      name: str("The name of the container, unique within the pod."),
      image: str("The container image."),
      volumeMounts: { array: "io.k8s.api.core.v1.VolumeMount", description: "Volumes mounted into the container." },
    },
  },
  "io.k8s.api.core.v1.VolumeMount": {
    description: "The mounting of a volume within a container.",
    required: ["name", "mountPath"],
    properties: {
      name: str("The name of the volume."),
      mountPath: str("Where in the container the volume is mounted."),
      readOnly: { type: "boolean", description: "Mounted read-only when true." },
    },
  },
  "io.k8s.api.core.v1.Volume": {
    description: "A named volume in a pod.",
    required: ["name"],
    properties: {
      name: str("The name of the volume."),
      projected: { ref: "io.k8s.api.core.v1.ProjectedVolumeSource", description: "Items projected into one volume." },
    },
  },
  "io.k8s.api.core.v1.ProjectedVolumeSource": {
    description: "A projected volume.",
    properties: {
      sources: { array: "io.k8s.api.core.v1.VolumeProjection", description: "The projections." },
      defaultMode: { type: "integer", format: "int32", description: "The file mode of the projected files." },
    },
  },
  "io.k8s.api.core.v1.VolumeProjection": {
    description: "One projection of a projected volume.",
    properties: {
      serviceAccountToken: {
        ref: "io.k8s.api.core.v1.ServiceAccountTokenProjection",
        description: "A service-account token the kubelet requests and refreshes.",
      },
    },
  },
  "io.k8s.api.core.v1.ServiceAccountTokenProjection": {
    description: "A projected service-account token.",
    required: ["path"],
    properties: {
      audience: str("The audience of the token; the API server's when empty."),
      expirationSeconds: int("The requested lifetime; the kubelet refreshes the token at 80 % of it."),
      path: str("The file the token is written to, relative to the mount point."),
    },
  },
  "io.k8s.api.core.v1.PodStatus": {
    description: "The observed status of a pod.",
    properties: { phase: str("Pending, Running, Succeeded, Failed or Unknown.") },
  },
  "io.k8s.api.authentication.v1.TokenRequest": kindDefinition(
    kind("authentication.k8s.io", "v1", "TokenRequest"),
    "TokenRequest requests a token for a given service account.",
    {
      spec: { ref: "io.k8s.api.authentication.v1.TokenRequestSpec", description: "The parameters of the request." },
      status: { ref: "io.k8s.api.authentication.v1.TokenRequestStatus", description: "The issued token." },
    },
    ["spec"],
  ),
  "io.k8s.api.authentication.v1.TokenRequestSpec": {
    description: "The parameters of a token request.",
    required: ["audiences"],
    properties: {
      audiences: { array: "string", description: "The intended audiences; the API server's when empty." },
      expirationSeconds: int("The requested lifetime in seconds, at least 600; the server may shorten it."),
      boundObjectRef: {
        ref: "io.k8s.api.authentication.v1.BoundObjectReference",
        description: "An object the token is bound to: it is invalid once the object is deleted.",
      },
    },
  },
  "io.k8s.api.authentication.v1.BoundObjectReference": {
    description: "A reference to the object a token is bound to.",
    properties: {
      kind: str("Pod, Secret or Node."),
      apiVersion: str("The API version of the object (v1)."),
      name: str("The name of the object."),
      uid: str("The UID of the object."),
    },
  },
  "io.k8s.api.authentication.v1.TokenRequestStatus": {
    description: "The result of a token request.",
    required: ["token", "expirationTimestamp"],
    properties: {
      token: str("The opaque bearer token."),
      expirationTimestamp: { type: "string", format: "date-time", description: "When the token expires." },
    },
  },
}

const userInfo: Definition = {
  description: "The information about a user that an authenticator gives.",
  properties: {
    username: str("The name that uniquely identifies the user."),
    uid: str("A unique value that identifies the user across time."),
    groups: { array: "string", description: "The groups the user is in." },
    extra: { map: "string", description: "Further information the authenticator gives." },
  },
}

const authenticationDefinitions: Readonly<Record<string, Definition>> = {
  [meta]: objectMeta,
  "io.k8s.api.authentication.v1.TokenReview": kindDefinition(
    kind("authentication.k8s.io", "v1", "TokenReview"),
    "TokenReview authenticates a token to a known user.",
    {
      spec: { ref: "io.k8s.api.authentication.v1.TokenReviewSpec", description: "The request being evaluated." },
      status: { ref: "io.k8s.api.authentication.v1.TokenReviewStatus", description: "The result of the review." },
    },
    ["spec"],
  ),
  "io.k8s.api.authentication.v1.TokenReviewSpec": {
    description: "A description of the token authentication request.",
    properties: {
      token: str("The opaque bearer token."),
      audiences: { array: "string", description: "Audiences the token must be valid for; the API server's if none." },
    },
  },
  "io.k8s.api.authentication.v1.TokenReviewStatus": {
    description: "The result of a token review.",
    properties: {
      authenticated: { type: "boolean", description: "Whether the token is valid." },
      user: { ref: "io.k8s.api.authentication.v1.UserInfo", description: "The user the token belongs to." },
      audiences: { array: "string", description: "The audiences the token is valid for." },
      error: str("Why the token could not be checked."),
    },
  },
  "io.k8s.api.authentication.v1.UserInfo": userInfo,
  "io.k8s.api.authentication.v1.SelfSubjectReview": kindDefinition(
    kind("authentication.k8s.io", "v1", "SelfSubjectReview"),
    "SelfSubjectReview returns the user attributes the server holds for the caller.",
    {
      status: {
        ref: "io.k8s.api.authentication.v1.SelfSubjectReviewStatus",
        description: "The user attributes of the caller.",
      },
    },
  ),
  "io.k8s.api.authentication.v1.SelfSubjectReviewStatus": {
    description: "The user attributes of the caller.",
    properties: { userInfo: { ref: "io.k8s.api.authentication.v1.UserInfo", description: "The caller." } },
  },
}

const authorizationDefinitions: Readonly<Record<string, Definition>> = {
  [meta]: objectMeta,
  "io.k8s.api.authorization.v1.SelfSubjectAccessReview": kindDefinition(
    kind("authorization.k8s.io", "v1", "SelfSubjectAccessReview"),
    "SelfSubjectAccessReview checks whether the caller can perform an action.",
    {
      spec: {
        ref: "io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec",
        description: "The action being evaluated; exactly one of its attributes must be set.",
      },
      status: {
        ref: "io.k8s.api.authorization.v1.SubjectAccessReviewStatus",
        description: "Whether the action is allowed.",
      },
    },
    ["spec"],
  ),
  "io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec": {
    description: "A description of the access request.",
    properties: {
      resourceAttributes: {
        ref: "io.k8s.api.authorization.v1.ResourceAttributes",
        description: "The attributes of a resource request.",
      },
      nonResourceAttributes: {
        ref: "io.k8s.api.authorization.v1.NonResourceAttributes",
        description: "The attributes of a request for a path that is not a resource.",
      },
    },
  },
  "io.k8s.api.authorization.v1.ResourceAttributes": {
    description: "The attributes of a resource request.",
    properties: {
      namespace: str("The namespace of the action; empty for cluster-scoped resources or all namespaces."),
      verb: str("A Kubernetes verb such as get, list, watch, create, or * for all."),
      group: str("The API group of the resource; * for all."),
      version: str("The API version of the resource; * for all."),
      resource: str("The resource; * for all."),
      subresource: str("The subresource; empty for none."),
      name: str("The name of the object; empty for all."),
    },
  },
  "io.k8s.api.authorization.v1.NonResourceAttributes": {
    description: "The attributes of a request for a path that is not a resource.",
    properties: { path: str("The URL path of the request."), verb: str("The lower-cased HTTP verb.") },
  },
  "io.k8s.api.authorization.v1.SubjectAccessReviewStatus": {
    description: "The result of an access review.",
    required: ["allowed"],
    properties: {
      allowed: { type: "boolean", description: "Whether the action is allowed." },
      denied: { type: "boolean", description: "Whether the action is denied." },
      reason: str("Why the action is allowed or denied."),
      evaluationError: str("An error that occurred while checking."),
    },
  },
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

const field = (f: Field): Record<string, unknown> =>
  "ref" in f ? { description: f.description, allOf: [ref(f.ref)] } : "array" in f
    ? {
      description: f.description,
      type: "array",
      items: f.array === "string" ? { type: "string", default: "" } : { default: {}, allOf: [ref(f.array)] },
    }
    : "map" in f
    ? { description: f.description, type: "object", additionalProperties: { type: "string", default: "" } }
    : { description: f.description, type: f.type, ...(f.format === undefined ? {} : { format: f.format }) }

const schema = (d: Definition): Record<string, unknown> => ({
  description: d.description,
  type: "object",
  ...(d.required === undefined ? {} : { required: d.required }),
  properties: Object.fromEntries(Object.entries(d.properties).map(([k, f]) => [k, field(f)])),
  ...(d.gvk === undefined ? {} : { "x-kubernetes-group-version-kind": [d.gvk] }),
})

const queryParameter = (name: string, description: string) => ({
  name,
  in: "query",
  description,
  schema: { type: "string", uniqueItems: true },
})

const createParameters = [
  queryParameter("dryRun", "When present, modifications are not persisted; All is the only value."),
  queryParameter("fieldManager", "The name of the actor making the change."),
  queryParameter(
    "fieldValidation",
    "How the server treats unknown or duplicate fields: Ignore, Warn (the default) or Strict.",
  ),
  queryParameter("pretty", "When true, the output is pretty-printed."),
]

const operation = (
  action: "post" | "get" | "list",
  gvk: NonNullable<Definition["gvk"]>,
  schemaName: string,
) => {
  const content = { "application/json": { schema: ref(schemaName) } }
  return {
    description: `${action === "post" ? "create" : action === "list" ? "list or watch" : "read"} ${gvk.kind}`,
    operationId: `${action}${gvk.kind}`,
    ...(action === "post" ? { requestBody: { content: { "*/*": { schema: ref(schemaName) } }, required: true } } : {}),
    responses: action === "post"
      ? { "200": { description: "OK", content }, "201": { description: "Created", content } }
      : { "200": { description: "OK", content } },
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": gvk,
  }
}

const readable = (plural: string, k: string, namespaced: boolean): Record<string, unknown> => {
  const gvk = kind("", "v1", k)
  const name = `io.k8s.api.core.v1.${k}`
  const base = namespaced ? `/api/v1/namespaces/{namespace}/${plural}` : `/api/v1/${plural}`
  return {
    [base]: { get: operation("list", gvk, name) },
    [`${base}/{name}`]: { get: operation("get", gvk, name) },
  }
}

const document = (
  paths: Record<string, unknown>,
  definitions: Readonly<Record<string, Definition>>,
): Record<string, unknown> => ({
  openapi: "3.0.0",
  info: { title: "Kubernetes", version: "1.34" },
  paths,
  components: {
    schemas: Object.fromEntries(Object.entries(definitions).map(([name, d]) => [name, schema(d)])),
  },
})

const created = (path: string, gvk: Definition["gvk"] & object, schemaName: string) => ({
  [path]: { post: operation("post", gvk, schemaName), parameters: createParameters },
})

/** The documents by group-version path, as `/openapi/v3` lists them. */
export const documents: Readonly<Record<string, Record<string, unknown>>> = {
  "api/v1": document({
    ...readable("namespaces", "Namespace", false),
    ...readable("nodes", "Node", false),
    ...readable("pods", "Pod", true),
    ...readable("secrets", "Secret", true),
    ...readable("serviceaccounts", "ServiceAccount", true),
    ...created(
      "/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
      kind("authentication.k8s.io", "v1", "TokenRequest"),
      "io.k8s.api.authentication.v1.TokenRequest",
    ),
  }, coreDefinitions),
  "apis/authentication.k8s.io/v1": document({
    ...created(
      "/apis/authentication.k8s.io/v1/tokenreviews",
      kind("authentication.k8s.io", "v1", "TokenReview"),
      "io.k8s.api.authentication.v1.TokenReview",
    ),
    ...created(
      "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      kind("authentication.k8s.io", "v1", "SelfSubjectReview"),
      "io.k8s.api.authentication.v1.SelfSubjectReview",
    ),
  }, authenticationDefinitions),
  "apis/authorization.k8s.io/v1": document({
    ...created(
      "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
      kind("authorization.k8s.io", "v1", "SelfSubjectAccessReview"),
      "io.k8s.api.authorization.v1.SelfSubjectAccessReview",
    ),
  }, authorizationDefinitions),
}

/** A stable tag of a document's content, for the `hash` kube-apiserver puts in each document's URL. */
const hash = (text: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
  return h.toString(16).toUpperCase().padStart(8, "0")
}

/** `GET /openapi/v3`: where each group-version's document is. */
export const index: Record<string, unknown> = {
  paths: Object.fromEntries(
    Object.entries(documents).map((
      [path, doc],
    ) => [path, { serverRelativeURL: `/openapi/v3/${path}?hash=${hash(JSON.stringify(doc))}` }]),
  ),
}

/** The media type of OpenAPI v2 in protobuf, which kubectl asks for. */
export const v2ProtobufMediaType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

const v2Info = { title: "Kubernetes", version: "v1.34.0" }

/**
 * `GET /openapi/v2`: a document with no definitions. kubectl downloads it before validating a file, but validates on
 * the server (`fieldValidation`) when the v3 document of the kind's group-version offers that parameter, as every
 * document here does; so v2 needs no schemas.
 */
export const v2 = (
  accept: string | undefined,
): { readonly contentType: string; readonly body: Uint8Array | object } => {
  if (accept === undefined || !accept.includes("application/com.github.proto-openapi.spec.v2")) {
    return { contentType: "application/json", body: { swagger: "2.0", info: v2Info, paths: {} } }
  }
  const writer = new BinaryWriter()
  // gnostic's openapi_v2.Document: swagger = 1, info = 2 { title = 1, version = 2 }, paths = 8
  writer.tag(1, WireType.LengthDelimited).string("2.0")
  writer.tag(2, WireType.LengthDelimited).fork()
  writer.tag(1, WireType.LengthDelimited).string(v2Info.title)
  writer.tag(2, WireType.LengthDelimited).string(v2Info.version)
  writer.join()
  writer.tag(8, WireType.LengthDelimited).bytes(new Uint8Array(0))
  return { contentType: v2ProtobufMediaType, body: writer.finish() }
}
