/**
 * The `metadata.managedFields` entry kube-apiserver's create handler puts in the objects it returns: the field manager
 * (the `User-Agent` up to its first `/`, `unknown` when empty), operation `Update`, the time, and the set of fields the
 * request set (after defaulting) in the FieldsV1 format.
 *
 * @module
 */
import { formatTime } from "../../core/TokenRequest.ts"

/** A FieldsV1 set: `f:<field>` keys, nested, leaves `{}`. */
export type FieldSet = { readonly [key: string]: FieldSet }

/** The manager name kube-apiserver derives from a `User-Agent`: printable characters before the first `/`, ≤128. */
export const managerOf = (userAgent: string | undefined): string => {
  const prefix = [...(userAgent ?? "").split("/")[0]!].filter((c) => /\P{C}/u.test(c)).join("").slice(0, 128)
  return prefix === "" ? "unknown" : prefix
}

/** One managedFields entry; `undefined` when the request set no field (kube-apiserver then records none). */
export const entry = (
  fields: FieldSet,
  options: {
    readonly userAgent: string | undefined
    readonly apiVersion: string
    readonly now: Date
    readonly subresource?: string
  },
): Record<string, unknown> | undefined =>
  Object.keys(fields).length === 0 ? undefined : {
    manager: managerOf(options.userAgent),
    operation: "Update",
    apiVersion: options.apiVersion,
    time: formatTime(options.now),
    fieldsType: "FieldsV1",
    fieldsV1: fields,
    ...(options.subresource === undefined ? {} : { subresource: options.subresource }),
  }

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined

/**
 * The fields a TokenRequest body sets once defaulted: `spec.expirationSeconds` always (it defaults to 3600), the
 * audiences when the body has a list (even empty), and the non-empty fields of the bound object reference.
 */
export const tokenRequestFields = (body: unknown): FieldSet => {
  const spec = record(record(body)?.spec) ?? {}
  const ref = record(spec.boundObjectRef)
  const refFields = ref === undefined ? undefined : Object.fromEntries(
    ["apiVersion", "kind", "name", "uid"].filter((k) => typeof ref[k] === "string" && ref[k] !== "").map((k) => [
      `f:${k}`,
      {},
    ]),
  )
  return {
    "f:spec": {
      ...(Array.isArray(spec.audiences) ? { "f:audiences": {} } : {}),
      ...(refFields === undefined ? {} : { "f:boundObjectRef": refFields }),
      "f:expirationSeconds": {},
    },
  }
}

/** The fields a TokenReview body sets: the audiences when it has a list, the token when not empty. */
export const tokenReviewFields = (body: unknown): FieldSet => {
  const spec = record(record(body)?.spec) ?? {}
  const fields: Record<string, FieldSet> = {
    ...(Array.isArray(spec.audiences) ? { "f:audiences": {} } : {}),
    ...(typeof spec.token === "string" && spec.token !== "" ? { "f:token": {} } : {}),
  }
  return Object.keys(fields).length === 0 ? {} : { "f:spec": fields }
}

/**
 * The fields a SelfSubjectAccessReview body sets: its resource or non-resource attributes (a pointer, hence `.`) with
 * their non-empty string fields.
 */
export const accessReviewFields = (body: unknown): FieldSet => {
  const spec = record(record(body)?.spec) ?? {}
  const attributes = (key: string): FieldSet | undefined => {
    const a = record(spec[key])
    if (a === undefined) return undefined
    const set = Object.keys(a).filter((k) => typeof a[k] === "string" && a[k] !== "").sort()
    return { ".": {}, ...Object.fromEntries(set.map((k) => [`f:${k}`, {}])) }
  }
  const fields = Object.fromEntries(
    ["nonResourceAttributes", "resourceAttributes"].flatMap((key) => {
      const set = attributes(key)
      return set === undefined ? [] : [[`f:${key}`, set]]
    }),
  )
  return Object.keys(fields).length === 0 ? {} : { "f:spec": fields }
}
