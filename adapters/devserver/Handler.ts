/**
 * The request pipeline of the development API server: count, apply a matching fault (latency, status with
 * `Retry-After`, dropped connection, malformed body), authenticate (client certificate, then bearer token; no
 * credentials make the caller `system:anonymous`, bad ones get 401), apply impersonation headers, authorize from the
 * method, path and query (403 with kube-apiserver's text), and only then decode the body (JSON, YAML or kubectl's
 * protobuf; 415 for another media type), route to the admin API or the Kubernetes API, and render the reply (in
 * protobuf when `Accept` prefers it and the kind has a table, else JSON). A caller that may not make a request never
 * reaches a body parser.
 *
 * @module
 */
import * as Accept from "./Accept.ts"
import * as Admin from "./Admin.ts"
import * as Api from "./Api.ts"
import * as Auth from "./Auth.ts"
import * as Body from "./Body.ts"
import type { Faults } from "./Faults.ts"
import type { Ca, CertIdentity } from "./Pki.ts"
import * as Impersonation from "./Impersonation.ts"
import * as Metrics from "./Metrics.ts"
import * as Protobuf from "./Protobuf.ts"
import * as ProtobufTypes from "./ProtobufTypes.ts"
import * as ProtobufWatch from "./ProtobufWatch.ts"
import { verifyClientCertAsync } from "./Pki.ts"
import * as Reply from "./Reply.ts"
import * as RequestInfo from "./RequestInfo.ts"
import type { Incoming, Outgoing } from "./Transport.ts"

/** Counters tests can assert on. */
export interface Counters {
  requests: number
  tokensIssued: number
  /** Watches open now. */
  watches: number
  /** Answered requests by the labels of `apiserver_request_total` (the key is {@link Metrics.requestKey}'s). */
  readonly answered: Map<string, number>
}

/** What the pipeline needs. */
export interface HandlerContext extends Api.ApiContext, Admin.AdminContext {
  readonly ca: Ca
  readonly faults: Faults
  readonly counters: Counters
  /** The server's clock (Effect's Clock of the scope that started the server). */
  readonly now: () => Date
}

const render = (reply: Reply.Reply, counters?: Counters, accept?: string): Outgoing => {
  const watch = reply.watch
  if (watch !== undefined) {
    const message = Accept.prefersProtobuf(accept) ? ProtobufTypes.messageOf(watch.kind) : undefined
    return {
      status: reply.status,
      headers: {
        "content-type": message === undefined ? "application/json" : ProtobufWatch.mediaType,
        "cache-control": "no-cache, private",
      },
      start: (write) => {
        const stop = watch.start((event) =>
          write(
            message === undefined
              ? JSON.stringify(event) + "\n"
              : ProtobufWatch.frame(event.type, event.object, message),
          )
        )
        if (counters !== undefined) counters.watches++
        return () => {
          if (counters !== undefined) counters.watches--
          stop()
        }
      },
      timeoutMillis: watch.timeoutMillis,
    }
  }
  // 304 Not Modified: the headers only
  if (reply.status === 304) return { status: 304, headers: { ...reply.headers }, body: "" }
  const isText = typeof reply.body === "string"
  const isBytes = reply.body instanceof Uint8Array
  return {
    status: reply.status,
    headers: {
      "content-type": isText ? "text/plain; charset=utf-8" : "application/json",
      "cache-control": "no-cache, private",
      ...reply.headers,
    },
    body: isText || isBytes ? reply.body as string | Uint8Array : JSON.stringify(reply.body),
  }
}

/**
 * A reply in protobuf when `Accept` prefers it (kubectl's does) and its kind has a message; others stay JSON, as
 * documents and plain text do. A watch is negotiated the same way when it is rendered, event by event.
 */
const negotiate = (reply: Reply.Reply, accept: string | undefined): Reply.Reply => {
  const body = reply.body as Record<string, unknown> | null
  const message = typeof body?.kind === "string" ? ProtobufTypes.messageOf(body.kind) : undefined
  if (reply.watch !== undefined || message === undefined || !Accept.prefersProtobuf(accept)) return reply
  return {
    ...reply,
    body: Protobuf.encode(body!, message),
    headers: { ...reply.headers, "content-type": Protobuf.mediaType },
  }
}

const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis))

type Authn = { readonly _tag: "Ok"; readonly identity: Auth.Identity | undefined } | { readonly _tag: "Unauthorized" }

const certificates = new WeakMap<object, Promise<CertIdentity | undefined>>()

const authenticate = async (ctx: HandlerContext, incoming: Incoming, now: Date): Promise<Authn> => {
  if (incoming.peerCertificate !== undefined) {
    let check = certificates.get(incoming.connection)
    if (check === undefined) {
      // certificates are checked once per connection, against wall-clock time, as a TLS stack would
      check = verifyClientCertAsync(ctx.ca, incoming.peerCertificate)
      certificates.set(incoming.connection, check)
    }
    const id = await check
    return id === undefined
      ? { _tag: "Unauthorized" }
      : { _tag: "Ok", identity: Auth.certIdentity(ctx.state, id.user, id.groups, id.fingerprint) }
  }
  const authorization = incoming.headers.authorization
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    if (match === null) return { _tag: "Unauthorized" }
    const result = await Auth.authenticateBearer(
      ctx.signer,
      ctx.state,
      match[1]!,
      ctx.config.apiAudiences,
      Math.floor(now.getTime() / 1000),
    )
    return result._tag === "Ok" ? { _tag: "Ok", identity: result.identity } : { _tag: "Unauthorized" }
  }
  return { _tag: "Ok", identity: undefined }
}

const faulted = async (ctx: HandlerContext, incoming: Incoming): Promise<Outgoing | undefined> => {
  const fault = ctx.faults.take(incoming.method, incoming.path)
  if (fault === undefined) return undefined
  if (fault.latencyMillis !== undefined && fault.latencyMillis > 0) await sleep(fault.latencyMillis)
  if (fault.drop) return "drop"
  if (fault.status !== undefined) {
    const out = render(Reply.fault(fault.status, fault.retryAfterSeconds))
    return fault.body === undefined || out === "drop" ? out : {
      ...out,
      body: fault.body,
      headers: { ...out.headers, "content-type": fault.contentType ?? "application/json" },
    }
  }
  if (fault.malformed) {
    return {
      status: incoming.method === "POST" ? 201 : 200,
      headers: { "content-type": fault.contentType ?? "application/json" },
      body: fault.body ?? '{"kind":',
    }
  }
  return undefined
}

/** Handles one request end to end. */
export const handle = async (ctx: HandlerContext, incoming: Incoming): Promise<Outgoing> => {
  ctx.counters.requests++
  const out = await respond(ctx, incoming)
  if (out !== "drop") {
    const info = RequestInfo.of(incoming.method, incoming.path, new URLSearchParams(incoming.query))
    const key = Metrics.requestKey(info, out.status)
    ctx.counters.answered.set(key, (ctx.counters.answered.get(key) ?? 0) + 1)
  }
  return out
}

const respond = async (ctx: HandlerContext, incoming: Incoming): Promise<Outgoing> => {
  const fault = await faulted(ctx, incoming)
  if (fault !== undefined) return fault
  const accept = typeof incoming.headers.accept === "string" ? incoming.headers.accept : undefined
  const admin = incoming.path.startsWith("/devserver/")
  // the admin API speaks JSON only; the Kubernetes API answers in the media type the client prefers
  const answer = (reply: Reply.Reply, counters?: Counters) =>
    admin ? render(reply, counters) : render(negotiate(reply, accept), counters, accept)
  const now = ctx.now()
  const authn = await authenticate(ctx, incoming, now)
  if (authn._tag === "Unauthorized") return answer(Reply.unauthorized())
  const requestor = authn.identity ?? Auth.anonymous
  const query = new URLSearchParams(incoming.query)
  const info = RequestInfo.of(incoming.method, incoming.path, query)
  const impersonation = Impersonation.check(ctx.state.rules(), requestor, incoming.headers)
  if (impersonation._tag === "BadRequest") return answer(Reply.badRequest(impersonation.message))
  if (impersonation._tag === "Forbidden") {
    return answer(Api.forbiddenFor(info, requestor.user, `impersonate-on:${impersonation.mode}:${info.verb}`))
  }
  const identity = impersonation._tag === "Impersonated" ? impersonation.identity : requestor
  // authorization looks at the method, path and query only: a caller that may not make the request never reaches a
  // body parser
  const denied = admin
    ? Admin.authorize(identity, incoming.method, incoming.path)
    : Api.authorizeRequest(ctx, identity, info)
  if (denied !== undefined) return answer(denied)
  const decoded = Body.decode(incoming.headers["content-type"], incoming.body, Api.bodyKind(incoming.path))
  if (decoded._tag === "Reply") return answer(decoded.reply)
  if (admin) return answer(await Admin.route(ctx, { ...incoming, body: decoded.body, identity }))
  if (incoming.method === "GET" && incoming.path === "/metrics") {
    return {
      status: 200,
      headers: { "content-type": Metrics.contentType, "cache-control": "no-cache, private" },
      body: Metrics.render(ctx.counters.answered, ctx.counters.tokensIssued),
    }
  }
  return answer(
    await Api.route(ctx, {
      method: incoming.method,
      path: incoming.path,
      query,
      info,
      accept,
      body: decoded.body,
      identity,
      now,
      userAgent: incoming.headers["user-agent"],
      ifNoneMatch: typeof incoming.headers["if-none-match"] === "string"
        ? incoming.headers["if-none-match"]
        : undefined,
    }),
    ctx.counters,
  )
}
