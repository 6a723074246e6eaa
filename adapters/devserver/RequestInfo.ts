/**
 * What a request asks for, read from its method, path and query before any body is read, as kube-apiserver's request
 * info does: a resource request (`/api/v1/...`, `/apis/<group>/<version>/...` with a resource) has a verb (`get`,
 * `list`, `watch`, `create`, ...), an API group, a resource, a subresource, a namespace and a name; anything else
 * (`/version`, `/healthz`, discovery documents, `/openid/v1/jwks`, ...) is a non-resource request whose verb is the
 * lower-cased HTTP method.
 *
 * @module
 */

/** A request for a resource. */
export interface ResourceInfo {
  readonly _tag: "Resource"
  readonly verb: string
  readonly group: string
  readonly version: string
  readonly resource: string
  readonly subresource: string | undefined
  readonly namespace: string | undefined
  readonly name: string | undefined
}

/** A request for a path that is not a resource. */
export interface NonResourceInfo {
  readonly _tag: "NonResource"
  readonly verb: string
  readonly path: string
}

/** What a request asks for. */
export type RequestInfo = ResourceInfo | NonResourceInfo

const isWatch = (query: URLSearchParams): boolean => {
  const watch = query.get("watch")
  return watch !== null && !["false", "0"].includes(watch.toLowerCase())
}

const resourceVerb = (method: string, name: string | undefined, query: URLSearchParams): string => {
  switch (method) {
    case "POST":
      return "create"
    case "GET":
    case "HEAD":
      return name !== undefined ? "get" : isWatch(query) ? "watch" : "list"
    case "PUT":
      return "update"
    case "PATCH":
      return "patch"
    case "DELETE":
      return name === undefined ? "deletecollection" : "delete"
    default:
      return ""
  }
}

/** Reads what a request asks for from its method, path and query. */
export const of = (method: string, path: string, query: URLSearchParams): RequestInfo => {
  const parts = path.split("/").filter((p) => p !== "")
  const core = parts[0] === "api" && parts.length >= 3
  const grouped = parts[0] === "apis" && parts.length >= 4
  if (!core && !grouped) return { _tag: "NonResource", verb: method.toLowerCase(), path }
  const group = core ? "" : parts[1]!
  const version = core ? parts[1]! : parts[2]!
  let rest = parts.slice(core ? 2 : 3)
  let namespace: string | undefined
  if (rest[0] === "namespaces" && rest.length > 1) {
    namespace = rest[1]
    if (rest.length > 2) rest = rest.slice(2)
  }
  const [resource = "", name, subresource] = rest
  return {
    _tag: "Resource",
    verb: resourceVerb(method, name, query),
    group,
    version,
    resource,
    subresource,
    namespace,
    name,
  }
}
