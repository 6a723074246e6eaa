/**
 * The `meta/v1` protobuf messages every kind uses (ObjectMeta, ListMeta, Status), with the field numbers of
 * Kubernetes' `generated.proto`, and the two constructors the tables of kinds are written with.
 *
 * @module
 */
import type { Field, FieldType, Message } from "./Protobuf.ts"

/** A field (a Go value unless `label` says otherwise). */
export const f = (no: number, json: string, type: FieldType = "string", label?: Field["label"]): Field =>
  label === undefined ? { no, json, type } : { no, json, type, label }
/** A message of fields in number order. */
export const message = (name: string, ...fields: ReadonlyArray<Field>): Message => ({ name, fields })

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

/** `meta/v1` ListMeta. */
export const listMeta: Message = message(
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
