/**
 * Kubernetes protobuf (`application/vnd.kubernetes.protobuf`): the magic `k8s\0`, a `runtime.Unknown` envelope
 * (typeMeta = 1 { apiVersion = 1, kind = 2 }, raw = 2, contentEncoding = 3, contentType = 4), then the object as its
 * own message. Messages are described by tables ({@link Message}); one codec reads and writes them all, in the JSON
 * shape the same object has: requests kubectl sends are decoded, and replies are encoded as kube-apiserver's
 * generated Go code writes them (fields in number order, a non-pointer field even when it is zero, a pointer only when
 * set, map entries sorted by key).
 *
 * @module
 */
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import { formatTime } from "../../core/TokenRequest.ts"

/** The media type of Kubernetes protobuf. */
export const mediaType = "application/vnd.kubernetes.protobuf"

const magic = [0x6b, 0x38, 0x73, 0x00]

/** Whether the body starts with the `k8s\0` magic. */
export const isEnvelope = (body: Uint8Array): boolean => body.length >= 4 && magic.every((b, i) => body[i] === b)

/**
 * What a field holds: a scalar, bytes (base64 in JSON), a `meta/v1` Time (`{ seconds = 1, nanos = 2 }`, an RFC 3339
 * string in JSON), bytes holding JSON text (a `FieldsV1`'s raw), or a message.
 */
export type FieldType = "string" | "int64" | "int32" | "bool" | "bytes" | "time" | "jsonBytes" | Message

/** One field of a message. */
export interface Field {
  readonly no: number
  /** The field's JSON name. */
  readonly json: string
  readonly type: FieldType
  /**
   * `single` (the default): a Go value, written even when zero; `optional`: a Go pointer, written only when set;
   * `repeated`: one field per element; `map`: one `{ key = 1, value = 2 }` entry per key, keys sorted; `inline`: an
   * embedded Go struct, a message whose fields are the enclosing object's own in JSON (a Volume's VolumeSource).
   */
  readonly label?: "single" | "optional" | "repeated" | "map" | "inline"
}

/** A message: its fields in number order. */
export interface Message {
  readonly name: string
  readonly fields: ReadonlyArray<Field>
  /** In JSON the message is the value of its only field (`ExtraValue` is a list of strings, `FieldsV1` an object). */
  readonly wrapped?: boolean
}

const wireTypeOf = (type: FieldType): WireType =>
  type === "int64" || type === "int32" || type === "bool" ? WireType.Varint : WireType.LengthDelimited

// --- encoding -----------------------------------------------------------------------------------------------------

const writeValue = (w: BinaryWriter, no: number, type: FieldType, value: unknown): void => {
  w.tag(no, wireTypeOf(type))
  switch (type) {
    case "string":
      w.string(typeof value === "string" ? value : "")
      return
    case "int64":
      w.int64(typeof value === "number" ? value : 0)
      return
    case "int32":
      w.int32(typeof value === "number" ? value : 0)
      return
    case "bool":
      w.bool(value === true)
      return
    case "bytes":
      w.bytes(Either.getOrElse(Encoding.decodeBase64(typeof value === "string" ? value : ""), () => new Uint8Array()))
      return
    case "jsonBytes":
      w.bytes(new TextEncoder().encode(JSON.stringify(value)))
      return
    case "time": {
      // a zero time is an empty message
      w.fork()
      const millis = typeof value === "string" ? Date.parse(value) : NaN
      if (!Number.isNaN(millis)) {
        w.tag(1, WireType.Varint).int64(Math.floor(millis / 1000))
        w.tag(2, WireType.Varint).int32((millis % 1000) * 1_000_000)
      }
      w.join()
      return
    }
    default:
      w.fork()
      writeMessage(w, type, value)
      w.join()
  }
}

const writeMessage = (w: BinaryWriter, message: Message, value: unknown): void => {
  for (const field of message.fields) {
    const v = message.wrapped ? value : (value as Record<string, unknown> | null | undefined)?.[field.json]
    switch (field.label ?? "single") {
      case "inline":
        writeValue(w, field.no, field.type, value)
        break
      case "single":
        writeValue(w, field.no, field.type, v)
        break
      case "optional":
        if (v !== undefined && v !== null) writeValue(w, field.no, field.type, v)
        break
      case "repeated":
        for (const item of Array.isArray(v) ? v : []) writeValue(w, field.no, field.type, item)
        break
      case "map": {
        const entries = (v ?? {}) as Record<string, unknown>
        for (const key of Object.keys(entries).sort()) {
          w.tag(field.no, WireType.LengthDelimited).fork()
          writeValue(w, 1, "string", key)
          writeValue(w, 2, field.type, entries[key])
          w.join()
        }
      }
    }
  }
}

/** Encodes a JSON object (with `apiVersion` and `kind`) as a `k8s\0` envelope around `message`. */
export const encode = (object: Record<string, unknown>, message: Message): Uint8Array => {
  const raw = new BinaryWriter()
  writeMessage(raw, message, object)
  const w = new BinaryWriter()
  w.tag(1, WireType.LengthDelimited).fork()
  writeValue(w, 1, "string", object.apiVersion)
  writeValue(w, 2, "string", object.kind)
  w.join()
  w.tag(2, WireType.LengthDelimited).bytes(raw.finish())
  writeValue(w, 3, "string", "")
  writeValue(w, 4, "string", "")
  const body = w.finish()
  const out = new Uint8Array(4 + body.length)
  out.set(magic)
  out.set(body, 4)
  return out
}

// --- decoding -----------------------------------------------------------------------------------------------------

/** How {@link decodeMessage} renders what it reads. */
export interface DecodeOptions {
  /**
   * Leave out the zero values of non-pointer fields (`""`, `0`, `false`, a zero time), as Go's JSON encoding of a
   * request's `omitempty` fields does; pointers keep their value.
   */
  readonly omitZero?: boolean
  /** Keep fields the table does not name, as `"#<number>": <hex>` (a test sees everything a server sent). */
  readonly keepUnknown?: boolean
}

const hex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")

const readValue = (r: BinaryReader, type: FieldType, options: DecodeOptions): unknown => {
  switch (type) {
    case "string":
      return r.string()
    case "int64":
      return Number(r.int64())
    case "int32":
      return r.int32()
    case "bool":
      return r.bool()
    case "bytes":
      return Encoding.encodeBase64(r.bytes())
    case "jsonBytes":
      return JSON.parse(new TextDecoder().decode(r.bytes()))
    case "time": {
      const t = decodeMessage(r.bytes(), { name: "Time", fields: [{ no: 1, json: "s", type: "int64" }] }, {})
      return typeof t.s === "number" ? formatTime(new Date(t.s * 1000)) : null
    }
    default:
      return decodeMessage(r.bytes(), type, options)
  }
}

const isZero = (value: unknown): boolean => value === "" || value === 0 || value === false || value === null

/** Decodes one message into its JSON shape; fields of an unexpected wire type are skipped. */
export const decodeMessage = (
  bytes: Uint8Array,
  message: Message,
  options: DecodeOptions = {},
): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  const reader = new BinaryReader(bytes)
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag()
    const field = message.fields.find((f) => f.no === no)
    const label = field?.label ?? "single"
    const expected = field === undefined
      ? undefined
      : label === "map" || label === "inline"
      ? WireType.LengthDelimited
      : wireTypeOf(field.type)
    if (field === undefined || wireType !== expected) {
      const skipped = reader.skip(wireType, no)
      if (options.keepUnknown) out[`#${no}`] = hex(skipped)
      continue
    }
    if (label === "map") {
      const entry = decodeMessage(reader.bytes(), {
        name: "Entry",
        fields: [{ no: 1, json: "key", type: "string" }, { no: 2, json: "value", type: field.type }],
      }, options)
      const map = (out[field.json] ?? {}) as Record<string, unknown>
      // an own property whatever the key (a key `__proto__` must not replace the map's prototype), as JSON.parse does
      Object.defineProperty(map, String(entry.key ?? ""), {
        value: entry.value,
        enumerable: true,
        writable: true,
        configurable: true,
      })
      out[field.json] = map
      continue
    }
    const value = readValue(reader, field.type, options)
    if (label === "inline") Object.assign(out, value)
    else if (label === "repeated") out[field.json] = [...((out[field.json] ?? []) as Array<unknown>), value]
    else if (!(options.omitZero && label === "single" && isZero(value))) out[field.json] = value
  }
  if (!message.wrapped) return out
  const only = message.fields[0]!
  return (out[only.json] ?? (only.label === "repeated" ? [] : null)) as Record<string, unknown>
}

/** The `runtime.Unknown` envelope. */
export interface Unknown {
  readonly apiVersion: string
  readonly kind: string
  readonly raw: Uint8Array
}

const typeMeta: Message = {
  name: "TypeMeta",
  fields: [{ no: 1, json: "apiVersion", type: "string" }, { no: 2, json: "kind", type: "string" }],
}

/** Decodes the envelope; throws on a body that is not one. */
export const decodeUnknown = (body: Uint8Array): Unknown => {
  if (!isEnvelope(body)) throw new Error("missing the k8s protobuf magic")
  let meta: Record<string, unknown> = {}
  let raw: Uint8Array = new Uint8Array(0)
  const reader = new BinaryReader(body.subarray(4))
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag()
    if (no === 1 && wireType === WireType.LengthDelimited) meta = decodeMessage(reader.bytes(), typeMeta)
    else if (no === 2 && wireType === WireType.LengthDelimited) raw = reader.bytes()
    else reader.skip(wireType, no)
  }
  return { apiVersion: String(meta.apiVersion ?? ""), kind: String(meta.kind ?? ""), raw }
}

/**
 * Decodes an envelope into the JSON document of its object (`apiVersion` and `kind` first), by the message `messageOf`
 * gives for its kind; a kind without one becomes `{ apiVersion, kind }`.
 */
export const decode = (
  body: Uint8Array,
  messageOf: (kind: string) => Message | undefined,
  options: DecodeOptions = {},
): Record<string, unknown> => {
  const { apiVersion, kind, raw } = decodeUnknown(body)
  const message = messageOf(kind)
  return { apiVersion, kind, ...(message === undefined ? {} : decodeMessage(raw, message, options)) }
}
