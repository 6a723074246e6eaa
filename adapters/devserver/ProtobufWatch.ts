/**
 * Kubernetes protobuf watch streams (`application/vnd.kubernetes.protobuf;stream=watch`): each event a 4-byte
 * big-endian length, then a `meta/v1` WatchEvent (type = 1, object = 2 { raw = 1 }) whose raw is the object's own
 * `k8s\0` envelope.
 *
 * @module
 */
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import type { DecodeOptions, Message } from "./Protobuf.ts"
import { decode, decodeMessage, encode } from "./Protobuf.ts"

/** The media type of a watch stream in protobuf. */
export const mediaType = "application/vnd.kubernetes.protobuf;stream=watch"

/**
 * One event of a protobuf watch stream: a 4-byte big-endian length, then a `meta/v1` WatchEvent (type = 1, object = 2
 * { raw = 1 }) whose raw is the object's own envelope.
 */
export const frame = (type: string, object: Record<string, unknown>, message: Message): Uint8Array => {
  const w = new BinaryWriter()
  w.tag(1, WireType.LengthDelimited).string(type)
  w.tag(2, WireType.LengthDelimited).fork()
  w.tag(1, WireType.LengthDelimited).bytes(encode(object, message))
  w.join()
  const event = w.finish()
  const out = new Uint8Array(4 + event.length)
  new DataView(out.buffer).setUint32(0, event.length)
  out.set(event, 4)
  return out
}

const watchEvent: Message = {
  name: "WatchEvent",
  fields: [{ no: 1, json: "type", type: "string" }, {
    no: 2,
    json: "object",
    type: { name: "RawExtension", fields: [{ no: 1, json: "raw", type: "bytes" }], wrapped: true },
  }],
}

/** Splits a protobuf watch stream into its events, each object decoded as {@link decode} does. */
export const decodeStream = (
  stream: Uint8Array,
  messageOf: (kind: string) => Message | undefined,
  options: DecodeOptions = {},
): ReadonlyArray<{ readonly type: string; readonly object: Record<string, unknown> }> => {
  const events = []
  for (let at = 0; at + 4 <= stream.length;) {
    const length = new DataView(stream.buffer, stream.byteOffset + at).getUint32(0)
    const event = decodeMessage(stream.subarray(at + 4, at + 4 + length), watchEvent)
    const raw = Either.getOrElse(Encoding.decodeBase64(String(event.object ?? "")), () => new Uint8Array())
    events.push({ type: String(event.type ?? ""), object: decode(raw, messageOf, options) })
    at += 4 + length
  }
  return events
}
