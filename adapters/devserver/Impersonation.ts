/**
 * User impersonation (`Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid`, `Impersonate-Extra-<key>`), checked
 * after authentication and before authorization as kube-apiserver does: the caller needs the `impersonate` verb on
 * each thing it asks for (`users`, `groups`, `serviceaccounts` in the account's namespace, `uids` and
 * `userextras/<key>` in `authentication.k8s.io`); then the request runs as the impersonated user.
 *
 * @module
 */
import type * as http from "node:http"
import type { Identity } from "./Auth.ts"
import * as Auth from "./Auth.ts"
import type { RuleInput } from "./StateFile.ts"

/** The outcome: no impersonation asked for, the impersonated user, a 400 text, or a denial with its mode. */
export type Outcome =
  | { readonly _tag: "None" }
  | { readonly _tag: "Impersonated"; readonly identity: Identity }
  | { readonly _tag: "BadRequest"; readonly message: string }
  /** `mode` is what kube-apiserver names in `impersonate-on:<mode>:<verb>`. */
  | { readonly _tag: "Forbidden"; readonly mode: string }

const values = (header: string | Array<string> | undefined): ReadonlyArray<string> =>
  header === undefined ? [] : (Array.isArray(header) ? header : header.split(/,\s*/)).filter((v) => v !== "")

const goString = (s: string): string => JSON.stringify(s)
const goStrings = (list: ReadonlyArray<string>): string =>
  list.length === 0 ? "[]string(nil)" : `[]string{${list.map(goString).join(", ")}}`

const serviceAccountUser = /^system:serviceaccount:([^:]+):([^:]+)$/

/** Reads the impersonation headers and checks them against the rules for the requestor. */
export const check = (
  rules: ReadonlyArray<RuleInput>,
  requestor: Identity,
  headers: http.IncomingHttpHeaders,
): Outcome => {
  const user = typeof headers["impersonate-user"] === "string" ? headers["impersonate-user"] : undefined
  const groups = values(headers["impersonate-group"])
  const uid = typeof headers["impersonate-uid"] === "string" ? headers["impersonate-uid"] : undefined
  const extra: Record<string, Array<string>> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith("impersonate-extra-")) continue
    extra[decodeURIComponent(name.slice("impersonate-extra-".length))] = [...values(value)]
  }
  if (user === undefined && groups.length === 0 && uid === undefined && Object.keys(extra).length === 0) {
    return { _tag: "None" }
  }
  if (user === undefined || user === "") {
    const extras = Object.keys(extra).length === 0
      ? "map[string][]string(nil)"
      : `map[string][]string{${Object.entries(extra).map(([k, v]) => `${goString(k)}:${goStrings(v)}`).join(", ")}}`
    return {
      _tag: "BadRequest",
      message: `requested &user.DefaultInfo{Name:"", UID:${goString(uid ?? "")}, Groups:${
        goStrings(groups)
      }, Extra:${extras}} without impersonating a user name`,
    }
  }
  const sa = serviceAccountUser.exec(user)
  const mode = sa !== null ? "serviceaccount" : user.startsWith("system:node:") ? "arbitrary-node" : "user-info"
  const may = (resource: string, name: string, namespace?: string): boolean =>
    Auth.authorize(rules, requestor, { verb: "impersonate", resource, name, namespace })
  const allowed = (sa !== null ? may("serviceaccounts", sa[2]!, sa[1]!) : may("users", user)) &&
    groups.every((g) => may("groups", g)) &&
    (uid === undefined || may("uids", uid)) &&
    Object.entries(extra).every(([key, vs]) => vs.every((v) => may(`userextras/${key}`, v)))
  if (!allowed) return { _tag: "Forbidden", mode }
  const base = groups.length > 0
    ? groups
    : sa !== null
    ? ["system:serviceaccounts", `system:serviceaccounts:${sa[1]}`]
    : []
  const all = user === Auth.anonymous.user
    ? base.includes("system:unauthenticated") ? base : [...base, "system:unauthenticated"]
    : base.includes("system:authenticated") || base.includes("system:unauthenticated")
    ? base
    : [...base, "system:authenticated"]
  return {
    _tag: "Impersonated",
    identity: {
      user,
      groups: all,
      ...(uid === undefined ? {} : { uid }),
      ...(Object.keys(extra).length === 0 ? {} : { extra }),
    },
  }
}
