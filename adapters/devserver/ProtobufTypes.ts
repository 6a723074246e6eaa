/**
 * The protobuf messages of the kinds this server reads and answers, with the field numbers of Kubernetes'
 * `generated.proto` files (`meta/v1`, `authentication/v1`, `authorization/v1`): the tables {@link Protobuf}'s codec
 * reads requests and writes replies with.
 *
 * @module
 */
import type { Field, FieldType, Message } from "./Protobuf.ts"

const f = (no: number, json: string, type: FieldType = "string", label?: Field["label"]): Field =>
  label === undefined ? { no, json, type } : { no, json, type, label }
const message = (name: string, ...fields: ReadonlyArray<Field>): Message => ({ name, fields })

const managedFieldsEntry = message(
  "ManagedFieldsEntry",
  f(1, "manager"),
  f(2, "operation"),
  f(3, "apiVersion"),
  f(4, "time", "time", "optional"),
  f(6, "fieldsType"),
  f(7, "fieldsV1", { name: "FieldsV1", fields: [f(1, "raw", "jsonBytes")], wrapped: true }, "optional"),
  f(8, "subresource"),
)

const ownerReference = message(
  "OwnerReference",
  f(1, "kind"),
  f(3, "name"),
  f(4, "uid"),
  f(5, "apiVersion"),
  f(6, "controller", "bool", "optional"),
  f(7, "blockOwnerDeletion", "bool", "optional"),
)

/** `meta/v1` ObjectMeta. */
export const objectMeta: Message = message(
  "ObjectMeta",
  f(1, "name"),
  f(2, "generateName"),
  f(3, "namespace"),
  f(4, "selfLink"),
  f(5, "uid"),
  f(6, "resourceVersion"),
  f(7, "generation", "int64"),
  f(8, "creationTimestamp", "time"),
  f(9, "deletionTimestamp", "time", "optional"),
  f(10, "deletionGracePeriodSeconds", "int64", "optional"),
  f(11, "labels", "string", "map"),
  f(12, "annotations", "string", "map"),
  f(13, "ownerReferences", ownerReference, "repeated"),
  f(14, "finalizers", "string", "repeated"),
  f(17, "managedFields", managedFieldsEntry, "repeated"),
)

/** A kind: metadata = 1, spec = 2, status = 3 (as every kind here numbers them; a kind without a spec skips 2). */
const kind = (name: string, spec: Message | undefined, status: Message): Message =>
  message(
    name,
    f(1, "metadata", objectMeta),
    ...(spec === undefined ? [] : [f(2, "spec", spec)]),
    f(spec === undefined ? 2 : 3, "status", status),
  )

const listMeta = message(
  "ListMeta",
  f(1, "selfLink"),
  f(2, "resourceVersion"),
  f(3, "continue"),
  f(4, "remainingItemCount", "int64", "optional"),
)

/** `meta/v1` Status. */
export const status: Message = message(
  "Status",
  f(1, "metadata", listMeta),
  f(2, "status"),
  f(3, "message"),
  f(4, "reason"),
  f(
    5,
    "details",
    message(
      "StatusDetails",
      f(1, "name"),
      f(2, "group"),
      f(3, "kind"),
      f(4, "causes", message("StatusCause", f(1, "reason"), f(2, "message"), f(3, "field")), "repeated"),
      f(5, "retryAfterSeconds", "int32"),
      f(6, "uid"),
    ),
    "optional",
  ),
  f(6, "code", "int32"),
)

/** `authentication/v1` TokenRequest. */
export const tokenRequest: Message = kind(
  "TokenRequest",
  message(
    "TokenRequestSpec",
    f(1, "audiences", "string", "repeated"),
    f(
      3,
      "boundObjectRef",
      message("BoundObjectReference", f(1, "kind"), f(2, "apiVersion"), f(3, "name"), f(4, "uid")),
      "optional",
    ),
    f(4, "expirationSeconds", "int64", "optional"),
  ),
  message("TokenRequestStatus", f(1, "token"), f(2, "expirationTimestamp", "time")),
)

const userInfo = message(
  "UserInfo",
  f(1, "username"),
  f(2, "uid"),
  f(3, "groups", "string", "repeated"),
  f(4, "extra", { name: "ExtraValue", fields: [f(1, "items", "string", "repeated")], wrapped: true }, "map"),
)

/** `authentication/v1` TokenReview. */
export const tokenReview: Message = kind(
  "TokenReview",
  message("TokenReviewSpec", f(1, "token"), f(2, "audiences", "string", "repeated")),
  message(
    "TokenReviewStatus",
    f(1, "authenticated", "bool"),
    f(2, "user", userInfo),
    f(3, "error"),
    f(4, "audiences", "string", "repeated"),
  ),
)

/** `authentication/v1` SelfSubjectReview. */
export const selfSubjectReview: Message = kind(
  "SelfSubjectReview",
  undefined,
  message("SelfSubjectReviewStatus", f(1, "userInfo", userInfo)),
)

/** The attributes of a resource request an access review asks about, in field-number order. */
export const resourceAttributeNames: ReadonlyArray<string> = [
  "namespace",
  "verb",
  "group",
  "version",
  "resource",
  "subresource",
  "name",
]

/** `authorization/v1` SelfSubjectAccessReview. */
export const selfSubjectAccessReview: Message = kind(
  "SelfSubjectAccessReview",
  message(
    "SelfSubjectAccessReviewSpec",
    f(
      1,
      "resourceAttributes",
      message("ResourceAttributes", ...resourceAttributeNames.map((n, i) => f(i + 1, n))),
      "optional",
    ),
    f(2, "nonResourceAttributes", message("NonResourceAttributes", f(1, "path"), f(2, "verb")), "optional"),
  ),
  message(
    "SubjectAccessReviewStatus",
    f(1, "allowed", "bool"),
    f(2, "reason"),
    f(3, "evaluationError"),
    f(4, "denied", "bool"),
  ),
)

/** The messages by kind. */
export const byKind: Readonly<Record<string, Message>> = {
  Status: status,
  TokenRequest: tokenRequest,
  TokenReview: tokenReview,
  SelfSubjectReview: selfSubjectReview,
  SelfSubjectAccessReview: selfSubjectAccessReview,
}

/** The message of a kind, if this server reads or writes it. */
export const messageOf = (kind: string): Message | undefined => byKind[kind]
