/**
 * The protobuf messages of the kinds this server reads and answers, with the field numbers of Kubernetes'
 * `generated.proto` files (`authentication/v1`, `authorization/v1`, and through {@link ProtobufMeta} and
 * {@link ProtobufCore} `meta/v1` and `core/v1`): the tables {@link Protobuf}'s codec reads requests and writes replies
 * with.
 *
 * @module
 */
import type { Message } from "./Protobuf.ts"
import * as ProtobufCore from "./ProtobufCore.ts"
import { f, message, objectMeta, status } from "./ProtobufMeta.ts"

/** A kind: metadata = 1, spec = 2, status = 3 (as every kind here numbers them; a kind without a spec skips 2). */
const kind = (name: string, spec: Message | undefined, status: Message): Message =>
  message(
    name,
    f(1, "metadata", objectMeta),
    ...(spec === undefined ? [] : [f(2, "spec", spec)]),
    f(spec === undefined ? 2 : 3, "status", status),
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
  ...ProtobufCore.byKind,
  Status: status,
  TokenRequest: tokenRequest,
  TokenReview: tokenReview,
  SelfSubjectReview: selfSubjectReview,
  SelfSubjectAccessReview: selfSubjectAccessReview,
}

/** The message of a kind, if this server reads or writes it. */
export const messageOf = (kind: string): Message | undefined => byKind[kind]
