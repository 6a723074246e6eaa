/**
 * The routes of the development API server that are not resources, answered as kube-apiserver answers them: health
 * (`/healthz`, `/livez`, `/readyz`, with `?verbose`), `/version`, OpenAPI v2 and v3, the OIDC discovery documents and
 * discovery, aggregated (with its ETag) or not.
 *
 * @module
 */
import * as Status from "../../core/Status.ts"
import type { ApiContext, ApiRequest } from "./Api.ts"
import * as Discovery from "./Discovery.ts"
import * as OpenApi from "./OpenApi.ts"
import * as Reply from "./Reply.ts"
import { openidConfiguration } from "./Signer.ts"

const text = (body: string): Reply.Reply => ({
  status: 200,
  body,
  headers: { "content-type": "text/plain; charset=utf-8" },
})

/** The checks `?verbose` lists, in kube-apiserver's format. */
const checks: Readonly<Record<string, ReadonlyArray<string>>> = {
  "/healthz": ["ping", "log", "signer"],
  "/livez": ["ping", "log", "signer"],
  "/readyz": ["ping", "log", "signer", "shutdown"],
}

const health = (path: string, query: URLSearchParams): Reply.Reply =>
  text(
    query.has("verbose") ? `${checks[path]!.map((c) => `[+]${c} ok\n`).join("")}${path.slice(1)} check passed\n` : "ok",
  )

/**
 * Whether an `Accept` header admits `produced`, as the go-restful routes serving the OIDC documents decide: no header, a
 * match-all range or the very media type (parameters aside); no other wildcard.
 */
export const accepts = (accept: string | undefined, produced: string): boolean =>
  accept === undefined || accept.trim() === "" ||
  accept.split(",").map((m) => m.split(";")[0]!.trim().toLowerCase()).some((m) => m === "*/*" || m === produced)

/** An OIDC document: kube-apiserver serves them as public, cacheable for an hour. */
const oidc = (accept: string | undefined, body: unknown, contentType: string): Reply.Reply =>
  accepts(accept, contentType)
    ? Reply.json(200, body, { "content-type": contentType, "cache-control": "public, max-age=3600" })
    : Reply.status(
      Status.failure(406, "NotAcceptable", `406: Not Acceptable\n\nAvailable representations: ${contentType}`, {
        details: {},
      }),
    )

/** Aggregated discovery, public and varying with `Accept` as kube-apiserver serves it. */
const aggregated = async (document: Record<string, unknown>, req: ApiRequest): Promise<Reply.Reply> => {
  const etag = await Discovery.etag(document)
  const headers = { "cache-control": "public", etag, vary: "Accept" }
  return req.ifNoneMatch === etag
    ? { status: 304, body: undefined, headers }
    : Reply.json(200, document, { "content-type": Discovery.aggregatedMediaType, ...headers })
}

/** The answer to a path outside `/api/v1` resources, when it is one of them; undefined otherwise. */
export const nonResource = async (ctx: ApiContext, req: ApiRequest): Promise<Reply.Reply | undefined> => {
  const { path, query } = req
  switch (path) {
    case "/healthz":
    case "/readyz":
    case "/livez":
      return health(path, query)
    case "/version":
      return Reply.json(200, Discovery.version)
    case "/openapi/v3":
      // served with Go's http.ServeContent under a name without an extension: the type is sniffed, and JSON sniffs as
      // plain text
      return Reply.json(200, OpenApi.index, { "content-type": "text/plain; charset=utf-8" })
    case "/openapi/v2": {
      const v2 = OpenApi.v2(req.accept)
      return Reply.json(200, v2.body, { "content-type": v2.contentType })
    }
    case "/.well-known/openid-configuration":
      return oidc(req.accept, openidConfiguration(ctx.config.issuer, `${ctx.url()}/openid/v1/jwks`), "application/json")
    case "/openid/v1/jwks":
      return oidc(req.accept, ctx.signer.jwks, "application/jwk-set+json")
    case "/api":
      return Discovery.aggregatedWanted(req.accept)
        ? await aggregated(Discovery.aggregatedApi, req)
        : Reply.json(200, Discovery.apiVersions(ctx.url().replace(/^https:\/\//, "")))
    case "/apis":
      return Discovery.aggregatedWanted(req.accept)
        ? await aggregated(Discovery.aggregatedApis, req)
        : Reply.json(200, Discovery.apiGroups)
    default: {
      const discovery = Discovery.document(path)
      if (discovery !== undefined) return Reply.json(200, discovery)
      if (!path.startsWith("/openapi/v3/")) return undefined
      const doc = OpenApi.documents[path.slice("/openapi/v3/".length)]
      // kube-apiserver answers a group-version it has no document for with an empty 404
      return doc === undefined ? { status: 404, body: "" } : Reply.json(200, doc)
    }
  }
}
