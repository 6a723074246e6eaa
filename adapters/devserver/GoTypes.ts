/**
 * The Go types kube-apiserver decodes request bodies into, as far as this server needs them, and the errors it gives
 * when a body does not fit: `json: cannot unmarshal ...` for a value of the wrong type ({@link goTypeError}), and the
 * `fieldValidation` directive's refusal of, or warnings for, unknown fields ({@link fieldValidation}).
 *
 * @module
 */
import * as Status from "../../core/Status.ts"
import * as Reply from "./Reply.ts"

/** The JSON type of a value as Go's `encoding/json` names it in its errors. */
export const jsonType = (v: unknown): string =>
  Array.isArray(v)
    ? "array"
    : typeof v === "boolean"
    ? "bool"
    : typeof v === "number"
    ? "number"
    : typeof v === "string"
    ? "string"
    : "object"

/** The Go type a JSON field decodes into, for {@link goTypeError}. */
export type GoType =
  | { readonly _tag: "Scalar"; readonly goType: "string" | "int64" | "bool" }
  /** A known field this server does not look into. */
  | { readonly _tag: "Any" }
  | { readonly _tag: "Slice"; readonly goType: string; readonly element: GoType }
  | {
    readonly _tag: "Struct"
    /** The struct's name (`TokenRequestSpec`). */
    readonly name: string
    /** The type as Go prints it (`v1.TokenRequestSpec`). */
    readonly goType: string
    readonly fields: Readonly<Record<string, GoType>>
  }

/** Go's `json: cannot unmarshal ...` error for the first value of `value` that does not fit `type`, if any. */
export const goTypeError = (value: unknown, type: GoType & { readonly _tag: "Struct" }): string | undefined => {
  const visit = (v: unknown, t: GoType, struct: string, path: string): string | undefined => {
    if (v === null || v === undefined || t._tag === "Any") return undefined
    const mismatch = (detail = jsonType(v)) =>
      `json: cannot unmarshal ${detail} into Go struct field ${struct}.${path} of type ${t.goType}`
    switch (t._tag) {
      case "Scalar":
        if (t.goType === "string") return typeof v === "string" ? undefined : mismatch()
        if (t.goType === "bool") return typeof v === "boolean" ? undefined : mismatch()
        if (typeof v !== "number") return mismatch()
        return Number.isSafeInteger(v) ? undefined : mismatch(`number ${v}`)
      case "Slice":
        if (!Array.isArray(v)) return mismatch()
        for (const item of v) {
          const e = visit(item, t.element, struct, path)
          if (e !== undefined) return e
        }
        return undefined
      case "Struct": {
        if (typeof v !== "object" || Array.isArray(v)) return path === "" ? undefined : mismatch(jsonType(v))
        for (const [key, field] of Object.entries(t.fields)) {
          const e = visit((v as Record<string, unknown>)[key], field, t.name, path === "" ? key : `${path}.${key}`)
          if (e !== undefined) return e
        }
        return undefined
      }
    }
  }
  return visit(value, type, type.name, "")
}

/** Strings, int64s and `[]string` for {@link goTypeError}. */
export const goString: GoType = { _tag: "Scalar", goType: "string" }
/** An `int64`. */
export const goInt64: GoType = { _tag: "Scalar", goType: "int64" }
/** A `[]string`. */
export const goStrings: GoType = { _tag: "Slice", goType: "[]string", element: goString }
const goAny: GoType = { _tag: "Any" }

/** A Go struct of package `v1` (`*v1.<name>` as a pointer, as the optional parts of a spec are). */
export const goStruct = (
  name: string,
  fields: Readonly<Record<string, GoType>>,
  pointer = false,
): GoType & { readonly _tag: "Struct" } => ({ _tag: "Struct", name, goType: `${pointer ? "*" : ""}v1.${name}`, fields })

/**
 * The Go type of a kind's body: type and object metadata, then its own fields; its status, written by the server, is
 * accepted as anything (kubectl's protobuf bodies carry it, empty).
 */
export const goKind = (
  name: string,
  fields: Readonly<Record<string, GoType>>,
): GoType & { readonly _tag: "Struct" } =>
  goStruct(name, { apiVersion: goString, kind: goString, metadata: goObjectMeta, ...fields, status: goAny })

/** The `ObjectMeta` fields (those this server reads are typed). */
export const goObjectMeta: GoType = {
  _tag: "Struct",
  name: "ObjectMeta",
  goType: "v1.ObjectMeta",
  fields: {
    name: goString,
    generateName: goString,
    namespace: goString,
    uid: goString,
    ...Object.fromEntries(
      [
        "selfLink",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
      ].map((f) => [f, goAny]),
    ),
  },
}

/** The paths of the fields of `value` that `type` does not have, in document order (`spec.bogus`, `x`). */
export const unknownFields = (value: unknown, type: GoType): ReadonlyArray<string> => {
  const found: Array<string> = []
  const visit = (v: unknown, t: GoType, path: string) => {
    if (t._tag === "Slice" && Array.isArray(v)) {
      v.forEach((item, i) => visit(item, t.element, `${path}[${i}]`))
      return
    }
    if (t._tag !== "Struct" || typeof v !== "object" || v === null || Array.isArray(v)) return
    for (const [key, item] of Object.entries(v)) {
      const field = t.fields[key]
      const at = path === "" ? key : `${path}.${key}`
      if (field === undefined) found.push(at)
      else visit(item, field, at)
    }
  }
  visit(value, type, "")
  return found
}

/**
 * The `fieldValidation` directive of a create: unknown fields are refused (`Strict`), reported in `Warning` headers
 * (`Warn`, the default) or dropped (`Ignore`); another value gets kube-apiserver's 422.
 */
export const fieldValidation = (
  query: URLSearchParams,
  kind: string,
  value: unknown,
  type: GoType,
): { readonly _tag: "Reply"; readonly reply: Reply.Reply } | {
  readonly _tag: "Warnings"
  readonly warnings: ReadonlyArray<string>
} => {
  const directive = query.get("fieldValidation") ?? ""
  if (!["", "Ignore", "Strict", "Warn"].includes(directive)) {
    const detail = `Unsupported value: ${JSON.stringify(directive)}: supported values: "", "Ignore", "Strict", "Warn"`
    return {
      _tag: "Reply",
      reply: Reply.status(
        Status.failure(422, "Invalid", `CreateOptions.meta.k8s.io "" is invalid: fieldValidation: ${detail}`, {
          details: {
            group: "meta.k8s.io",
            kind: "CreateOptions",
            causes: [{ reason: "FieldValueNotSupported", message: detail, field: "fieldValidation" }],
          },
        }),
      ),
    }
  }
  const unknown = directive === "Ignore" ? [] : unknownFields(value, type)
  if (directive === "Strict" && unknown.length > 0) {
    return {
      _tag: "Reply",
      reply: cannotBeHandled(
        kind,
        `strict decoding error: ${unknown.map((f) => `unknown field ${JSON.stringify(f)}`).join(", ")}`,
      ),
    }
  }
  return { _tag: "Warnings", warnings: unknown.map((f) => `unknown field ${JSON.stringify(f)}`) }
}

/** kube-apiserver's 400 for a body whose fields do not fit their Go types. */
export const cannotBeHandled = (kind: string, error: string, sent: { kind: string; version: string } = {
  kind,
  version: "v1",
}): Reply.Reply =>
  Reply.badRequest(`${sent.kind} in version "${sent.version}" cannot be handled as a ${kind}: ${error}`)
