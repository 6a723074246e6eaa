/**
 * The runtime port for the agent's local HTTP transport: serving plain HTTP/1.1 on a unix socket or a TCP address
 * with limits on its connections, and asking such a server with one GET. `NodeLocalHttp.ts` implements it over
 * `node:http`, which reaches a unix socket and a loopback port the same way in Deno, Node and Bun; each runtime's
 * layer provides that implementation.
 *
 * A unix socket is bound so that no other local user can redirect it or connect before its mode applies: the
 * socket's directory must not be writable by another user (unless it is sticky, as `/tmp` is) nor be named through
 * another user's symlink; the socket is created in a fresh 0700 directory `.NAME.sat` beside its final path, given its
 * mode, and renamed into place. A `.NAME.sat` that is not a directory of the agent's own user is refused, never
 * followed, emptied or removed.
 *
 * @module
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as ErrorBase from "../../core/ErrorBase.ts"
import type * as Connections from "./Connections.ts"

/** Where a server listens, as configured. */
export type ListenAddress =
  | { readonly _tag: "Unix"; readonly path: string; readonly mode: number }
  | { readonly _tag: "Tcp"; readonly host: string; readonly port: number }

/** Where a server listens (the actual port for TCP). */
export type Address =
  | { readonly _tag: "Unix"; readonly path: string }
  | { readonly _tag: "Tcp"; readonly host: string; readonly port: number }

/** A request as the server received it (no body: servers of this port accept none). */
export interface Request {
  /** The HTTP method. */
  readonly method: string
  /** The request target. */
  readonly url: string
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  /** The size of the request line and headers, in bytes. */
  readonly size: number
}

/** A response to write. */
export interface Response {
  /** The HTTP status code. */
  readonly status: number
  /** The response headers. */
  readonly headers: Readonly<Record<string, string>>
  /** The body. */
  readonly body: string
  /** Close the connection after this response. */
  readonly close?: boolean | undefined
}

/** How a server is started. */
export interface ServeOptions {
  /** Where it listens. */
  readonly address: ListenAddress
  /** The largest request line plus headers read; larger requests are answered 431 by the transport. */
  readonly maxHeaderBytes: number
  /** Limits on connections. */
  readonly limits: Connections.ResolvedLimits
  /** Answers a request; `address` is where the server listens. */
  readonly handle: (request: Request, address: Address) => Effect.Effect<Response>
}

/** How a GET is sent. */
export interface GetOptions {
  /** The request headers. */
  readonly headers: Readonly<Record<string, string>>
  /** How long to wait for the whole answer, in milliseconds. */
  readonly timeoutMillis: number
  /** The largest body accepted, in characters. */
  readonly maxBytes: number
}

/** A server's answer to a GET. */
export interface Reply {
  /** The HTTP status code. */
  readonly status: number
  /** The body, as UTF-8 text. */
  readonly body: string
}

/** Why a server could not start, or a GET got no answer. */
export type LocalHttpErrorReason =
  | "AddressInUse"
  | "NotASocket"
  | "UnsafeDirectory"
  | "Listen"
  | "Refused"
  | "Timeout"
  | "TooLarge"
  | "Failed"

/** The fields of a {@link LocalHttpError}. */
export interface LocalHttpErrorFields extends ErrorBase.Reasoned<LocalHttpErrorReason> {
  /** The address (`unix:PATH` or `HOST:PORT`). */
  readonly address: string
  /** The errno name when the system gave one (`ECONNREFUSED`), or an empty string. */
  readonly code: string
}

const LocalHttpErrorBase: ErrorBase.Constructor<"LocalHttpError", LocalHttpErrorFields> = ErrorBase.make(
  "LocalHttpError",
  (e) => `${e.address}: ${e.detail}`,
)

/** A server could not start, or a GET got no answer. */
export class LocalHttpError extends LocalHttpErrorBase {}

/** The local HTTP transport. */
export interface LocalHttp {
  /** Starts a server; it stops (and removes its socket) when the scope closes. */
  readonly serve: (options: ServeOptions) => Effect.Effect<Address, LocalHttpError, Scope.Scope>
  /** Sends `GET path`; fails when no answer came within `timeoutMillis` or it exceeded `maxBytes`. */
  readonly get: (address: Address, path: string, options: GetOptions) => Effect.Effect<Reply, LocalHttpError>
}

/** The tag of the {@link LocalHttp} service. */
export const LocalHttp: Context.Tag<LocalHttp, LocalHttp> = Context.GenericTag<LocalHttp>(
  "@sa-token/manager/LocalHttp",
)

/** Builds the service from its operations. */
export const make = (implementation: LocalHttp): LocalHttp => implementation

/** A layer providing a {@link LocalHttp} implementation. */
export const layer = (implementation: LocalHttp): Layer.Layer<LocalHttp> => Layer.succeed(LocalHttp, implementation)

/** The errno name of a system error (`ECONNREFUSED`), or an empty string. */
export const errnoOf = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === "string" ? code : ""
}

/** An address as text: `unix:PATH` or `HOST:PORT`. */
export const describe = (address: Address | ListenAddress): string =>
  address._tag === "Unix" ? `unix:${address.path}` : `${address.host}:${address.port}`

/**
 * The private directory a socket is bound in before it is renamed into place: `.NAME.sat` beside it. The name is
 * fixed, so that Deno's `--allow-net=unix:…` can name the temporary socket `.NAME.sat/s`.
 */
export const privateDirectory = (socketPath: string): string => {
  const slash = socketPath.lastIndexOf("/")
  return `${socketPath.slice(0, slash + 1)}.${socketPath.slice(slash + 1)}.sat`
}
