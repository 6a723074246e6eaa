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
import type { Definition, Field } from "./OpenApiDefinitions.ts"
import { authenticationDefinitions, authorizationDefinitions } from "./OpenApiAuthDefinitions.ts"
import { coreDefinitions, kind } from "./OpenApiDefinitions.ts"

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
