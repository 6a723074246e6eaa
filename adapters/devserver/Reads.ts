/**
 * The read routes of the development API server: get, list and watch of namespaces, service accounts, pods, secrets
 * and nodes, each allowed by the rules for its verb, answered as objects or, when the `Accept` header asks, as Tables
 * (what `kubectl get` prints); a watch streams the changes after the revision it names.
 *
 * @module
 */
import * as KubeWire from "../kube/KubeWire.ts"
import type { ApiContext, ApiRequest } from "./Api.ts"
import * as Auth from "./Auth.ts"
import * as Objects from "./Objects.ts"
import * as Reply from "./Reply.ts"
import type { StoredObject } from "./State.ts"
import * as Table from "./Table.ts"

/**
 * A get, list or watch of a core resource (`namespace` and `name` as the path gives them), after the rules allow that
 * verb on it: the object or list, as a Table when the `Accept` header asks for one.
 */
export const read = (
  ctx: ApiContext,
  req: ApiRequest,
  resource: string,
  namespace?: string,
  name?: string,
): Reply.Reply => {
  const identity = req.identity
  const verb = name === undefined ? (req.info.verb === "watch" ? "watch" : "list") : "get"
  if (!Auth.authorize(ctx.state.rules(), identity, { verb, resource, namespace, name })) {
    return Reply.forbidden({
      user: identity.user,
      verb,
      resource,
      group: "",
      ...(namespace === undefined ? {} : { namespace }),
      ...(name === undefined ? {} : { name }),
    })
  }
  const asTable = Table.wanted(req.accept)
  if (verb === "watch") return watch(ctx, req, resource, namespace, asTable)
  const reply = Objects.read(ctx.state, resource, namespace, name, nameSelected(req.query))
  if (!asTable || reply.status !== 200) return reply
  const body = reply.body as Record<string, unknown>
  const objects = name === undefined ? body.items as ReadonlyArray<Record<string, unknown>> : [body]
  const resourceVersion = (body.metadata as { resourceVersion: string }).resourceVersion
  return Reply.json(200, Table.table(resource, objects, req.now, resourceVersion))
}

/** The name a `fieldSelector=metadata.name=<name>` selects, if any. */
const nameSelected = (query: URLSearchParams): string | undefined =>
  /^metadata\.name=(.+)$/.exec(query.get("fieldSelector") ?? "")?.[1]

/**
 * A watch: `{ type, object }` events (objects as Tables when asked, the columns in the first one only), which the
 * handler writes as newline-delimited JSON or protobuf frames. Without a `resourceVersion` (or with `0`) it starts with an ADDED event per object, as a real server does;
 * with one (kubectl's, from its list) it reports the changes after that revision, those made between the list and the
 * watch included. `fieldSelector=metadata.name=N` narrows it to one object; `timeoutSeconds` ends it.
 */
const watch = (
  ctx: ApiContext,
  req: ApiRequest,
  resource: string,
  namespace: string | undefined,
  asTable: boolean,
): Reply.Reply => {
  const only = nameSelected(req.query)
  const rv = req.query.get("resourceVersion")
  const timeoutSeconds = Number(req.query.get("timeoutSeconds") ?? "")
  // timeoutSeconds, else the request's `timeout` (a Go duration, as kubectl's --request-timeout sends it)
  const requested = KubeWire.parseGoDuration(req.query.get("timeout") ?? "") ?? 0n
  const timeout = Number.isInteger(timeoutSeconds) && timeoutSeconds > 0
    ? timeoutSeconds
    : requested > 0n
    ? Number(requested) / 1e9
    : 0
  const matches = (o: StoredObject) =>
    (namespace === undefined || o.namespace === namespace) && (only === undefined || o.name === only)
  return {
    status: 200,
    body: undefined,
    watch: {
      kind: asTable ? "Table" : Objects.kindOf(resource),
      ...(timeout > 0 ? { timeoutMillis: Math.round(timeout * 1000) } : {}),
      start: (emit) => {
        let headers = true
        const send = (type: string, o: Record<string, unknown>) => {
          const resourceVersion = (o.metadata as { resourceVersion: string }).resourceVersion
          const object = asTable ? Table.table(resource, [o], ctx.now(), resourceVersion, headers) : o
          if (asTable && !headers) object.columnDefinitions = null
          headers = false
          emit({ type, object })
        }
        const fromNow = rv === null || rv === "" || rv === "0"
        if (fromNow) {
          // each event's object is whole, with its kind and apiVersion (unlike a list's items)
          for (const o of Objects.list(ctx.state, resource, namespace)) {
            if (matches(o)) send("ADDED", Objects.render(resource, o))
          }
        }
        const since = Number(rv)
        return ctx.state.watch((event) => {
          if (event.resource === resource && matches(event.object)) {
            send(event.type, Objects.render(resource, event.object))
          }
        }, fromNow || !Number.isInteger(since) ? undefined : since)
      },
    },
  }
}
