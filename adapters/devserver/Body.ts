/**
 * Decoding of request bodies by media type, as kube-apiserver negotiates them: `application/json` (also when no type
 * is given), `application/yaml` and kubectl's `application/vnd.kubernetes.protobuf`; any other type gets 415. A body
 * that cannot be read gets kube-apiserver's 400 text, with Go's parser messages and a summary of the body (the body
 * itself when it starts with `{`, else hex, both cut at 30 bytes), never this server's own parser messages.
 *
 * @module
 */
import { parseDocument } from "yaml"
import * as Protobuf from "./Protobuf.ts"
import * as ProtobufTypes from "./ProtobufTypes.ts"
import * as Status from "../../core/Status.ts"
import * as Reply from "./Reply.ts"
import { cannotBeHandled, jsonType } from "./GoTypes.ts"

/** A decoded body (`undefined` when empty), or the reply refusing it. */
export type Decoded =
  | { readonly _tag: "Body"; readonly body: unknown }
  | { readonly _tag: "Reply"; readonly reply: Reply.Reply }

/** The media types a body may have. */
export const acceptedMediaTypes: ReadonlyArray<string> = ["application/json", "application/yaml", Protobuf.mediaType]

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

/** kube-apiserver's summary of a body in an error message. */
export const summarize = (body: Uint8Array, max = 30): string => {
  if (body.length === 0) return "<empty>"
  const cut = body.length > max
  const head = cut ? body.subarray(0, max) : body
  return (body[0] === 0x7b ? new TextDecoder().decode(head) : hex(head)) + (cut ? " ..." : "")
}

const quoteChar = (c: string): string => c === "'" ? "'\\''" : c === '"' ? `'"'` : `'${JSON.stringify(c).slice(1, -1)}'`

class Syntax extends Error {}

/** Go's `encoding/json` syntax error for a text JSON.parse refused (`undefined` when the text is valid JSON). */
export const goJsonSyntaxError = (text: string): string | undefined => {
  let i = 0
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i]!)) i++
  }
  const fail = (context: string): never => {
    if (i >= text.length) throw new Syntax("unexpected end of JSON input")
    throw new Syntax(`invalid character ${quoteChar(text[i]!)} ${context}`)
  }
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++, i++) {
      if (text[i] !== word[k]) fail(`in literal ${word} (expecting ${quoteChar(word[k]!)})`)
    }
  }
  const string = () => {
    i++
    while (true) {
      if (i >= text.length) fail("")
      const c = text[i]!
      if (c === '"') return void i++
      if (c < " ") fail("in string literal")
      if (c === "\\") {
        i++
        if (i >= text.length) fail("")
        if ('"\\/bfnrt'.includes(text[i]!)) i++
        else if (text[i] === "u") {
          i++
          for (let k = 0; k < 4; k++, i++) {
            if (!/[0-9a-fA-F]/.test(text[i] ?? "")) fail("in \\u hexadecimal character escape")
          }
        } else fail("in string escape code")
      } else i++
    }
  }
  const number = () => {
    if (text[i] === "-") i++
    if (text[i] === "0") i++
    else if (/[1-9]/.test(text[i] ?? "")) { while (/[0-9]/.test(text[i] ?? "")) i++ }
    else fail("in numeric literal")
    if (text[i] === ".") {
      i++
      if (!/[0-9]/.test(text[i] ?? "")) fail("after decimal point in numeric literal")
      while (/[0-9]/.test(text[i] ?? "")) i++
    }
    if (text[i] === "e" || text[i] === "E") {
      i++
      if (text[i] === "+" || text[i] === "-") i++
      if (!/[0-9]/.test(text[i] ?? "")) fail("in exponent of numeric literal")
      while (/[0-9]/.test(text[i] ?? "")) i++
    }
  }
  /** An object's or array's members from its opening bracket to `close`: none, or `member`s separated by commas. */
  const members = (close: string, member: () => void, afterMember: string) => {
    i++
    ws()
    if (text[i] === close) return void i++
    while (true) {
      member()
      ws()
      if (text[i] === close) return void i++
      if (text[i] !== ",") fail(afterMember)
      i++
    }
  }
  const keyValue = () => {
    ws()
    if (text[i] !== '"') fail("looking for beginning of object key string")
    string()
    ws()
    if (text[i] !== ":") fail("after object key")
    i++
    value()
  }
  const value = (): void => {
    ws()
    const c = text[i]
    if (c === "{") return members("}", keyValue, "after object key:value pair")
    if (c === "[") return members("]", value, "after array element")
    if (c === '"') return string()
    if (c === "t") return literal("true")
    if (c === "f") return literal("false")
    if (c === "n") return literal("null")
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number()
    fail("looking for beginning of value")
  }
  try {
    value()
    ws()
    if (i < text.length) fail("after top-level value")
    return undefined
  } catch (e) {
    if (e instanceof Syntax) return e.message
    throw e
  }
}

/** kube-apiserver's 400 for a body whose type cannot be made out (with the kind expected, when the route has one). */
export const unrecognized = (kind: string | undefined, error: string, body: Uint8Array): Reply.Reply =>
  Reply.badRequest(
    `${kind === undefined ? "" : `the object provided is unrecognized (must be of type ${kind}): `}${error} (${
      summarize(body)
    })`,
  )

const typeMeta = (kind: string | undefined, value: unknown, body: Uint8Array): Decoded =>
  value === null || typeof value === "object" && !Array.isArray(value) ? { _tag: "Body", body: value ?? {} } : {
    _tag: "Reply",
    reply: unrecognized(
      kind,
      `couldn't get version/kind; json parse error: json: cannot unmarshal ${
        jsonType(value)
      } into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`,
      body,
    ),
  }

const mediaTypeOf = (contentType: string | Array<string> | undefined): string =>
  String(contentType ?? "").split(";")[0]!.trim().toLowerCase()

/**
 * Decodes a body by its `Content-Type`; `kind` is the kind the route expects (named in the messages), `undefined` for
 * routes that are not Kubernetes resources.
 */
export const decode = (
  contentType: string | Array<string> | undefined,
  body: Uint8Array,
  kind: string | undefined,
): Decoded => {
  if (body.length === 0) return { _tag: "Body", body: undefined }
  const mediaType = mediaTypeOf(contentType)
  if (mediaType === Protobuf.mediaType) {
    try {
      return { _tag: "Body", body: Protobuf.decode(body, ProtobufTypes.messageOf, { omitZero: true }) }
    } catch {
      return {
        _tag: "Reply",
        reply: unrecognized(
          kind,
          Protobuf.isEnvelope(body)
            ? "unexpected EOF"
            : "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]",
          body,
        ),
      }
    }
  }
  const text = new TextDecoder().decode(body)
  if (mediaType === "" || mediaType === "application/json") {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      const syntax = goJsonSyntaxError(text) ?? "unexpected end of JSON input"
      return {
        _tag: "Reply",
        reply: unrecognized(kind, `couldn't get version/kind; json parse error: ${syntax}`, body),
      }
    }
    return typeMeta(kind, value, body)
  }
  if (mediaType === "application/yaml") {
    const doc = parseDocument(text, { prettyErrors: false })
    const error = doc.errors[0]
    if (error !== undefined) {
      // the line is where the parser stopped; the text is what Go's YAML parser says of the commonest such body, an
      // unfinished flow collection or value
      const line = error.linePos?.[0]?.line ?? 1
      return {
        _tag: "Reply",
        reply: unrecognized(kind, `yaml: line ${line}: did not find expected node content`, body),
      }
    }
    return typeMeta(kind, doc.toJS(), body)
  }
  return {
    _tag: "Reply",
    reply: Reply.status(
      Status.failure(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: ${
          acceptedMediaTypes.join(", ")
        }`,
      ),
    ),
  }
}

/** The kinds each group-version this server decodes bodies of has (a body of another kind is refused). */
const registered: Readonly<Record<string, ReadonlyArray<string>>> = {
  "authentication.k8s.io/v1": ["SelfSubjectReview", "TokenRequest", "TokenReview"],
  "authorization.k8s.io/v1": [
    "LocalSubjectAccessReview",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SubjectAccessReview",
  ],
}

/**
 * The 400 for a body whose `apiVersion` and `kind` (each defaulted from the route's when missing) are not the route's,
 * as kube-apiserver's decoder answers: a kind its group-version does not have is not registered; another kind of the
 * group-version decodes, but has no conversion to the route's; `undefined` when the body is of the route's kind.
 */
export const kindError = (
  body: unknown,
  expected: { readonly kind: string; readonly apiVersion: string },
): Reply.Reply | undefined => {
  const meta = typeof body === "object" && body !== null ? body as { apiVersion?: unknown; kind?: unknown } : {}
  const apiVersion = typeof meta.apiVersion === "string" && meta.apiVersion !== ""
    ? meta.apiVersion
    : expected.apiVersion
  const kind = typeof meta.kind === "string" && meta.kind !== "" ? meta.kind : expected.kind
  if (apiVersion === expected.apiVersion && kind === expected.kind) return undefined
  const sent = { kind, version: apiVersion.split("/").pop()! }
  const group = expected.apiVersion.split("/")[0]!.split(".")[0]!
  return (registered[apiVersion] ?? []).includes(kind)
    ? cannotBeHandled(
      expected.kind,
      `converting (${sent.version}.${kind}) to (${group}.${expected.kind}): unknown conversion`,
      sent,
    )
    : cannotBeHandled(
      expected.kind,
      `no kind ${JSON.stringify(kind)} is registered for version ${
        JSON.stringify(apiVersion)
      } in scheme "pkg/runtime/scheme.go:111"`,
      sent,
    )
}
