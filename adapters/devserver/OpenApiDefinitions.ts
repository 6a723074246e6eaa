/**
 * The OpenAPI definitions of the kinds the development API server serves, with the descriptions `kubectl explain`
 * prints: their shape and the builders they are written with, and the core kinds (`api/v1`); the authentication kinds
 * and the authorization kind are in `OpenApiAuthDefinitions.ts`. `OpenApi.ts` renders them as v3 documents and the v2
 * document.
 *
 * @module
 */

/** A property of a definition: a scalar, a reference to another definition, an array or a string map. */
export type Field =
  | { readonly type: "string" | "integer" | "boolean"; readonly description: string; readonly format?: string }
  | { readonly ref: string; readonly description: string }
  | { readonly array: string; readonly description: string }
  | { readonly map: "string"; readonly description: string }

/** An object schema: its description, properties, required ones and, for a kind, its group-version-kind. */
export interface Definition {
  readonly description: string
  readonly properties: Readonly<Record<string, Field>>
  readonly required?: ReadonlyArray<string>
  readonly gvk?: { readonly group: string; readonly version: string; readonly kind: string }
}

/** A string field. */
export const str = (description: string): Field => ({ type: "string", description })
/** A field whose value is the named definition. */
export const refTo = (definition: string, description: string): Field => ({ ref: definition, description })
/** An array of `string` or of the named definition. */
export const arrayOf = (items: string, description: string): Field => ({ array: items, description })
const int = (description: string): Field => ({ type: "integer", description, format: "int64" })

/** The name of the object metadata's definition. */
export const meta: string = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
const typeMeta = {
  apiVersion: str("The versioned schema of this representation of an object."),
  kind: str("The REST resource this object represents, in CamelCase."),
}
const metadataField: Field = refTo(meta, "Standard object's metadata.")

/** The object metadata every kind has, which each group-version's definitions include. */
export const objectMeta: Definition = {
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

/** A status whose only field is the phase, one of `phases`. */
const phaseStatus = (description: string, phases: string): Definition => ({
  description,
  properties: { phase: str(phases) },
})

/** A group-version-kind. */
export const kind = (group: string, version: string, k: string): { group: string; version: string; kind: string } => ({
  group,
  version,
  kind: k,
})

/** The definition of a kind: its type and object metadata, then its own fields. */
export const kindDefinition = (
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

/** The definitions of `api/v1`: the core kinds the server serves and what they reference. */
export const coreDefinitions: Readonly<Record<string, Definition>> = {
  [meta]: objectMeta,
  "io.k8s.api.core.v1.Namespace": kindDefinition(kind("", "v1", "Namespace"), "Namespace provides a scope for names.", {
    spec: refTo("io.k8s.api.core.v1.NamespaceSpec", "The behavior of the namespace."),
    status: refTo("io.k8s.api.core.v1.NamespaceStatus", "The observed status of the namespace."),
  }),
  "io.k8s.api.core.v1.NamespaceSpec": {
    description: "The attributes of a namespace.",
    properties: { finalizers: arrayOf("string", "Finalizers that must run before it is removed.") },
  },
  "io.k8s.api.core.v1.NamespaceStatus": phaseStatus("The status of a namespace.", "Active or Terminating."),
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
      spec: refTo("io.k8s.api.core.v1.PodSpec", "The desired behavior of the pod."),
      status: refTo("io.k8s.api.core.v1.PodStatus", "The most recently observed status of the pod."),
    },
  ),
  "io.k8s.api.core.v1.PodSpec": {
    description: "A description of a pod.",
    required: ["containers"],
    properties: {
      containers: arrayOf("io.k8s.api.core.v1.Container", "The containers of the pod; at least one."),
      volumes: arrayOf("io.k8s.api.core.v1.Volume", "Volumes the pod's containers can mount."),
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
      volumeMounts: arrayOf("io.k8s.api.core.v1.VolumeMount", "Volumes mounted into the container."),
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
      projected: refTo("io.k8s.api.core.v1.ProjectedVolumeSource", "Items projected into one volume."),
    },
  },
  "io.k8s.api.core.v1.ProjectedVolumeSource": {
    description: "A projected volume.",
    properties: {
      sources: arrayOf("io.k8s.api.core.v1.VolumeProjection", "The projections."),
      defaultMode: { type: "integer", format: "int32", description: "The file mode of the projected files." },
    },
  },
  "io.k8s.api.core.v1.VolumeProjection": {
    description: "One projection of a projected volume.",
    properties: {
      serviceAccountToken: refTo(
        "io.k8s.api.core.v1.ServiceAccountTokenProjection",
        "A service-account token the kubelet requests and refreshes.",
      ),
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
  "io.k8s.api.core.v1.PodStatus": phaseStatus(
    "The observed status of a pod.",
    "Pending, Running, Succeeded, Failed or Unknown.",
  ),
  "io.k8s.api.authentication.v1.TokenRequest": kindDefinition(
    kind("authentication.k8s.io", "v1", "TokenRequest"),
    "TokenRequest requests a token for a given service account.",
    {
      spec: refTo("io.k8s.api.authentication.v1.TokenRequestSpec", "The parameters of the request."),
      status: refTo("io.k8s.api.authentication.v1.TokenRequestStatus", "The issued token."),
    },
    ["spec"],
  ),
  "io.k8s.api.authentication.v1.TokenRequestSpec": {
    description: "The parameters of a token request.",
    required: ["audiences"],
    properties: {
      audiences: arrayOf("string", "The intended audiences; the API server's when empty."),
      expirationSeconds: int("The requested lifetime in seconds, at least 600; the server may shorten it."),
      boundObjectRef: refTo(
        "io.k8s.api.authentication.v1.BoundObjectReference",
        "An object the token is bound to: it is invalid once the object is deleted.",
      ),
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
