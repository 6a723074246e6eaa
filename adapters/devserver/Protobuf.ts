/**
 * Decoding of the Kubernetes protobuf bodies kubectl sends (`application/vnd.kubernetes.protobuf`): the magic `k8s\0`, a
 * `runtime.Unknown` envelope, then the object. Only the messages a token server reads are decoded, into the same
 * JSON shape a JSON body has; unknown fields are skipped.
 *
 * @module
 */
import { BinaryReader } from "@bufbuild/protobuf/wire"
import type { WireType } from "@bufbuild/protobuf/wire"

/** The media type of Kubernetes protobuf. */
export const mediaType = "application/vnd.kubernetes.protobuf"

const magic = [0x6b, 0x38, 0x73, 0x00]

/** Whether the body starts with the `k8s\0` magic. */
export const isEnvelope = (body: Uint8Array): boolean => body.length >= 4 && magic.every((b, i) => body[i] === b)

type Fields = Record<number, (reader: BinaryReader, wireType: WireType) => void>

const read = (bytes: Uint8Array, fields: Fields): void => {
  const reader = new BinaryReader(bytes)
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag()
    const field = fields[no]
    if (field === undefined) reader.skip(wireType, no)
    else field(reader, wireType)
  }
}

/** The `runtime.Unknown` envelope. */
export interface Unknown {
  readonly apiVersion: string
  readonly kind: string
  readonly raw: Uint8Array
}

/** Decodes the envelope; throws on a body that is not one. */
export const decodeUnknown = (body: Uint8Array): Unknown => {
  if (!isEnvelope(body)) throw new Error("missing the k8s protobuf magic")
  let apiVersion = ""
  let kind = ""
  let raw: Uint8Array = new Uint8Array(0)
  read(body.subarray(4), {
    1: (r) =>
      read(r.bytes(), {
        1: (t) => (apiVersion = t.string()),
        2: (t) => (kind = t.string()),
      }),
    2: (r) => (raw = r.bytes()),
  })
  return { apiVersion, kind, raw }
}

const objectMeta = (bytes: Uint8Array): Record<string, string> => {
  const meta: Record<string, string> = {}
  read(bytes, {
    1: (r) => (meta.name = r.string()),
    3: (r) => (meta.namespace = r.string()),
    5: (r) => (meta.uid = r.string()),
  })
  return meta
}

const emptyToAbsent = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== ""))

/** Decodes an `authentication.k8s.io/v1` TokenRequest message into its JSON shape. */
export const decodeTokenRequest = (raw: Uint8Array): Record<string, unknown> => {
  let metadata: Record<string, string> | undefined
  const spec: Record<string, unknown> = {}
  const audiences: Array<string> = []
  read(raw, {
    1: (r) => (metadata = objectMeta(r.bytes())),
    2: (r) =>
      read(r.bytes(), {
        1: (s) => audiences.push(s.string()),
        3: (s) => {
          const ref: Record<string, string> = {}
          read(s.bytes(), {
            1: (b) => (ref.kind = b.string()),
            2: (b) => (ref.apiVersion = b.string()),
            3: (b) => (ref.name = b.string()),
            4: (b) => (ref.uid = b.string()),
          })
          spec.boundObjectRef = emptyToAbsent(ref)
        },
        4: (s) => (spec.expirationSeconds = Number(s.int64())),
      }),
  })
  if (audiences.length > 0) spec.audiences = audiences
  return {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    ...(metadata ? { metadata: emptyToAbsent(metadata) } : {}),
    spec,
  }
}

/** Decodes an `authentication.k8s.io/v1` TokenReview message (spec: token = 1, audiences = 2). */
export const decodeTokenReview = (raw: Uint8Array): Record<string, unknown> => {
  const spec: Record<string, unknown> = {}
  const audiences: Array<string> = []
  read(raw, {
    2: (r) =>
      read(r.bytes(), {
        1: (s) => (spec.token = s.string()),
        2: (s) => audiences.push(s.string()),
      }),
  })
  if (audiences.length > 0) spec.audiences = audiences
  return { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec }
}

const strings = (bytes: Uint8Array, names: Readonly<Record<number, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  read(
    bytes,
    Object.fromEntries(Object.entries(names).map(([no, name]) => [no, (r: BinaryReader) => (out[name] = r.string())])),
  )
  return emptyToAbsent(out) as Record<string, string>
}

/**
 * Decodes an `authorization.k8s.io/v1` SelfSubjectAccessReview message (spec = 2: resourceAttributes = 1 { namespace
 * = 1, verb = 2, group = 3, version = 4, resource = 5, subresource = 6, name = 7 }, nonResourceAttributes = 2 { path
 * = 1, verb = 2 }).
 */
export const decodeSelfSubjectAccessReview = (raw: Uint8Array): Record<string, unknown> => {
  const spec: Record<string, unknown> = {}
  read(raw, {
    2: (r) =>
      read(r.bytes(), {
        1: (s) => (spec.resourceAttributes = strings(s.bytes(), {
          1: "namespace",
          2: "verb",
          3: "group",
          4: "version",
          5: "resource",
          6: "subresource",
          7: "name",
        })),
        2: (s) => (spec.nonResourceAttributes = strings(s.bytes(), { 1: "path", 2: "verb" })),
      }),
  })
  return { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec }
}

/**
 * Turns a protobuf body into the JSON document a JSON client would have sent, for the kinds this server reads
 * (others become `{ apiVersion, kind }`).
 */
export const toJson = (body: Uint8Array): Record<string, unknown> => {
  const unknown = decodeUnknown(body)
  switch (unknown.kind) {
    case "TokenRequest":
      return decodeTokenRequest(unknown.raw)
    case "TokenReview":
      return decodeTokenReview(unknown.raw)
    case "SelfSubjectAccessReview":
      return decodeSelfSubjectAccessReview(unknown.raw)
    default:
      return { apiVersion: unknown.apiVersion, kind: unknown.kind }
  }
}
