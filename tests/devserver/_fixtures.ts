/**
 * Fixtures shared by the development API server's suites: client-certificate credentials, the managedFields entry
 * kube-apiserver records for a create, and a table-driven check of decisions taken on an `Accept` header.
 */
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import type { DevServer, DevServerError } from "../../adapters/devserver/mod.ts"
import type { Credentials } from "../_support/devserver.ts"

/** Issues a client certificate from the server's CA (CN = user, O = groups), as the credentials of a request. */
export const clientCert = (
  s: DevServer,
  user: string,
  groups: ReadonlyArray<string>,
): Effect.Effect<Credentials, DevServerError> =>
  Effect.map(s.issueClientCert(user, groups), (c) => ({ cert: c.certPem, key: c.keyPem }))

/**
 * The managedFields entry kube-apiserver records for an `authentication.k8s.io/v1` create made at the reference time
 * without a User-Agent: the fields the request set and, for a subresource, its name.
 */
export const managedFieldsEntry = (fieldsV1: unknown, subresource?: string): Record<string, unknown> => ({
  manager: "unknown",
  operation: "Update",
  apiVersion: "authentication.k8s.io/v1",
  time: "2025-03-01T10:00:00Z",
  fieldsType: "FieldsV1",
  fieldsV1,
  ...(subresource === undefined ? {} : { subresource }),
})

/** Asserts that `decide` answers true for each Accept header of `yes` and false for each of `no` (`undefined`: none). */
export const assertDecidesOn = (
  decide: (accept: string | undefined) => boolean,
  table: { readonly yes: ReadonlyArray<string>; readonly no: ReadonlyArray<string | undefined> },
): void => {
  for (const accept of table.yes) assert.equal(decide(accept), true, accept)
  for (const accept of table.no) assert.equal(decide(accept), false, String(accept))
}
