/**
 * The admin API of the development API server, under `/devserver/v1/`, for members of `system:masters` only: change
 * the state while the server runs, inject and clear faults, read counters, issue client certificates. Bodies are
 * validated with Schema; errors are `meta/v1` Status objects.
 *
 * | method | path | body | answer |
 * |---|---|---|---|
 * | GET | `/devserver/v1/state` | | the state in the state-file format |
 * | POST | `/devserver/v1/namespaces` | `{ name, uid? }` | `{ uid }` |
 * | POST | `/devserver/v1/serviceaccounts` | `{ namespace, name, uid? }` | `{ uid }` |
 * | POST | `/devserver/v1/pods` | `{ namespace, name, serviceAccountName, nodeName?, tokenAudiences?, uid? }` | `{ uid }` |
 * | POST | `/devserver/v1/secrets` | `{ namespace, name, uid? }` | `{ uid }` |
 * | POST | `/devserver/v1/nodes` | `{ name, uid? }` | `{ uid }` |
 * | DELETE | `/devserver/v1/{namespaces,nodes}/NAME`, `/devserver/v1/{serviceaccounts,pods,secrets}/NS/NAME` | | `{ deleted }` |
 * | POST | `/devserver/v1/users` | `{ name, groups? }` | `{}` |
 * | POST | `/devserver/v1/statictokens` | `{ token, user, groups?, uid? }` | `{}` |
 * | POST / DELETE | `/devserver/v1/rules` | a rule / none | `{}` |
 * | GET / POST / DELETE | `/devserver/v1/faults` | a fault spec (POST) | the active faults |
 * | GET | `/devserver/v1/stats` | | `{ requests, tokensIssued, faultsInjected }` |
 * | POST | `/devserver/v1/clientcerts` | `{ user, groups? }` | `{ certPem, keyPem }` |
 *
 * @module
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Status from "../../core/Status.ts"
import type { Identity } from "./Auth.ts"
import { mastersGroup } from "./Auth.ts"
import type { Faults } from "./Faults.ts"
import { FaultSpecSchema } from "./Faults.ts"
import type { KeyPairPem } from "./Pki.ts"
import * as Reply from "./Reply.ts"
import type { DevState } from "./State.ts"
import { RuleSchema, StateInputSchema, StaticTokenSchema, UserSchema } from "./StateFile.ts"

/** What the admin API needs. */
export interface AdminContext {
  readonly state: DevState
  readonly faults: Faults
  readonly counters: { readonly requests: number; readonly tokensIssued: number }
  readonly issueClientCert: (user: string, groups: ReadonlyArray<string>) => Promise<KeyPairPem>
}

/** An admin request. */
export interface AdminRequest {
  readonly method: string
  readonly path: string
  readonly body: unknown
  readonly identity: Identity
}

const Name = Schema.String.pipe(Schema.minLength(1))
const Names = Schema.Array(Name)
const opt = <S extends Schema.Schema.Any>(s: S) => Schema.optionalWith(s, { exact: true })

const Named = Schema.Struct({ name: Name, uid: opt(Name) })
const Namespaced = Schema.Struct({ namespace: Name, name: Name, uid: opt(Name) })
const Pod = Schema.Struct({
  namespace: Name,
  name: Name,
  uid: opt(Name),
  serviceAccountName: Name,
  nodeName: opt(Name),
  tokenAudiences: opt(Names),
})
const ClientCert = Schema.Struct({ user: Name, groups: opt(Names) })

const decode = <A, I>(schema: Schema.Schema<A, I>, body: unknown): Either.Either<A, Reply.Reply> =>
  Schema.decodeUnknownEither(schema, { onExcessProperty: "error" })(body ?? {}).pipe(
    Either.mapLeft((e) =>
      Reply.status(
        Status.failure(
          400,
          "BadRequest",
          ParseResult.ArrayFormatter.formatErrorSync(e).map((i) =>
            `${i.path.length === 0 ? "body" : i.path.join(".")}: ${i.message}`
          ).join("; "),
        ),
      )
    ),
  )

const withBody = <A, I>(
  schema: Schema.Schema<A, I>,
  body: unknown,
  f: (a: A) => unknown | Promise<unknown>,
): Promise<Reply.Reply> =>
  Either.match(decode(schema, body), {
    onLeft: (reply) => Promise.resolve(reply),
    onRight: async (a) => Reply.json(200, await f(a)),
  })

const deleted = (ok: boolean, resource: string, name: string): Reply.Reply =>
  ok ? Reply.json(200, { deleted: true }) : Reply.notFound(resource, name)

/** The 403 for anyone outside `system:masters` (anonymous callers too), `undefined` for a master. */
export const authorize = (identity: Identity, method: string, path: string): Reply.Reply | undefined =>
  identity.groups.includes(mastersGroup) ? undefined : Reply.forbiddenPath(identity.user, method.toLowerCase(), path)

/** Routes an admin request (403 for anyone outside `system:masters`). */
export const route = (ctx: AdminContext, req: AdminRequest): Promise<Reply.Reply> => {
  const denied = authorize(req.identity, req.method, req.path)
  if (denied !== undefined) return Promise.resolve(denied)
  return Promise.resolve(routeMasters(ctx, req))
}

const routeMasters = (ctx: AdminContext, req: AdminRequest): Reply.Reply | Promise<Reply.Reply> => {
  const { state, faults } = ctx
  let parts: ReadonlyArray<string>
  try {
    parts = req.path.replace(/^\/devserver\/v1\/?/, "").split("/").filter((p) => p !== "").map(decodeURIComponent)
  } catch {
    return Reply.badRequest(`malformed path ${JSON.stringify(req.path)}`)
  }
  const [collection, a, b] = parts
  const key = `${req.method} ${collection ?? ""}${parts.length > 1 ? `/${parts.length - 1}` : ""}`
  switch (key) {
    case "GET state":
      return Reply.json(200, Schema.encodeSync(StateInputSchema)(state.snapshot()))
    case "POST namespaces":
      return withBody(Named, req.body, (n) => ({ uid: state.upsertNamespace(n.name, n.uid) }))
    case "POST serviceaccounts":
      return withBody(Namespaced, req.body, (o) => ({ uid: state.upsertServiceAccount(o.namespace, o.name, o.uid) }))
    case "POST pods":
      return withBody(Pod, req.body, (p) => ({ uid: state.upsertPod(p) }))
    case "POST secrets":
      return withBody(Namespaced, req.body, (s) => ({ uid: state.upsertSecret(s) }))
    case "POST nodes":
      return withBody(Named, req.body, (n) => ({ uid: state.upsertNode(n) }))
    case "DELETE namespaces/1":
      return deleted(state.deleteNamespace(a!), "namespaces", a!)
    case "DELETE nodes/1":
      return deleted(state.deleteNode(a!), "nodes", a!)
    case "DELETE serviceaccounts/2":
      return deleted(state.deleteServiceAccount(a!, b!), "serviceaccounts", b!)
    case "DELETE pods/2":
      return deleted(state.deletePod(a!, b!), "pods", b!)
    case "DELETE secrets/2":
      return deleted(state.deleteSecret(a!, b!), "secrets", b!)
    case "POST users":
      return withBody(UserSchema, req.body, (u) => {
        state.upsertUser(u.name, u.groups ?? [])
        return {}
      })
    case "POST statictokens":
      return withBody(StaticTokenSchema, req.body, (t) => {
        state.addStaticToken(t.token, t.user, t.groups, t.uid)
        return {}
      })
    case "POST rules":
      return withBody(RuleSchema, req.body, (r) => {
        state.addRule(r)
        return {}
      })
    case "DELETE rules":
      state.clearRules()
      return Reply.json(200, {})
    case "GET faults":
      return Reply.json(200, { faults: faults.active() })
    case "POST faults":
      return withBody(FaultSpecSchema, req.body, (f) => {
        faults.inject(f)
        return { faults: faults.active() }
      })
    case "DELETE faults":
      faults.clear()
      return Reply.json(200, { faults: [] })
    case "GET stats":
      return Reply.json(200, {
        requests: ctx.counters.requests,
        tokensIssued: ctx.counters.tokensIssued,
        faultsInjected: faults.injected(),
      })
    case "POST clientcerts":
      return withBody(ClientCert, req.body, (c) => ctx.issueClientCert(c.user, c.groups ?? []))
    default:
      return Reply.pathNotFound()
  }
}
