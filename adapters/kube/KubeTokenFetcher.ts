/**
 * The core `TokenFetcher` over the Kubernetes TokenRequest API: one JSON `POST
 * /api/v1/namespaces/{namespace}/serviceaccounts/{name}/token` per fetch through an `HttpClient` built for the
 * connection's TLS material. The 201 response is decoded with the core's `TokenRequestJson`; every failure becomes a
 * `TokenFetchError` whose `reason` follows the HTTP status (or says `Timeout`, `Transport`, `Decode`) and whose
 * description is the server's Status message, never a token. On a 404 the fetcher runs kubelet's discovery check
 * once (`GET /api/v1`, memoised for its lifetime, a failed check counting as "not supported").
 *
 * @example
 * ```ts
 * import * as KubeConnection from "./KubeConnection.ts"
 * import * as KubeTokenFetcher from "./KubeTokenFetcher.ts"
 * import * as Layer from "effect/Layer"
 *
 * const fetcher = KubeTokenFetcher.layer().pipe(Layer.provide(KubeConnection.layer({ context: "dev" })))
 * ```
 *
 * @module
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { TokenFetchError, unsupportedMessage } from "../../core/TokenError.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import { TokenRequestJson, withoutToken } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { checkLabel, checkSubdomain } from "../../core/Validation.ts"
import { KubeConnection } from "./KubeConnection.ts"
import type { Exchange } from "./KubeResponse.ts"
import { decodeFailure, decodeTokenRequest, hasTokenRequestResource, logWarnings, readBody } from "./KubeResponse.ts"
import { version } from "../../core/Version.ts"
import { TlsHttpClient } from "../platform/TlsHttpClient.ts"
import { TlsHttpClientError } from "../platform/TlsHttpClient.ts"

/** How the fetcher talks to the server. */
export interface Options {
  /** The time allowed for one request, response body included. @default 10 seconds */
  readonly timeout?: Duration.DurationInput | undefined
  /** The largest response body accepted, in bytes. @default 1 MiB */
  readonly maxResponseBytes?: number | undefined
  /** The `User-Agent` header. @default "sa-token-manager/<version>" */
  readonly userAgent?: string | undefined
}

const transport = (method: string, url: string, cause: unknown): TokenFetchError => {
  const messages: Array<string> = []
  for (let c: unknown = cause, depth = 0; c !== undefined && c !== null && depth < 6; depth++) {
    const message = c instanceof Error ? c.message : typeof c === "string" ? c : undefined
    const code = typeof c === "object" && "code" in c ? String((c as { code: unknown }).code) : undefined
    const text = [message, code && !message?.includes(code) ? `(${code})` : undefined].filter(Boolean).join(" ")
    if (text !== "" && !messages.some((m) => m.includes(text))) messages.push(text)
    c = typeof c === "object" && "cause" in c ? (c as { cause: unknown }).cause : undefined
  }
  return new TokenFetchError({ reason: "Transport", description: `${method} "${url}": ${messages.join(": ")}` })
}

/** Builds the fetcher over a connection and an HTTP client that carries the connection's TLS material. */
export const make = (
  connection: KubeConnection,
  client: HttpClient.HttpClient,
  options: Options = {},
): Effect.Effect<TokenFetcher.TokenFetcher> =>
  Effect.gen(function* () {
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(10))
    const limit = options.maxResponseBytes ?? 1024 * 1024
    const userAgent = options.userAgent ?? `sa-token-manager/${version}`

    const exchange = (request: HttpClientRequest.HttpClientRequest): Effect.Effect<Exchange, TokenFetchError> =>
      Effect.gen(function* () {
        const bearer = yield* connection.bearerToken.pipe(
          Effect.mapError((error) => new TokenFetchError({ reason: "Transport", description: error.message })),
        )
        const authorized = HttpClientRequest.setHeaders(request, {
          ...connection.headers,
          Accept: "application/json",
          "User-Agent": userAgent,
          ...(Option.isSome(bearer) ? { Authorization: `Bearer ${Redacted.value(bearer.value)}` } : {}),
        })
        const response = yield* client.execute(authorized).pipe(
          Effect.mapError((error) => transport(request.method, request.url, error.cause ?? error)),
        )
        const body = yield* readBody(response, limit).pipe(
          Effect.mapError((error) =>
            error instanceof TokenFetchError ? error : transport(request.method, request.url, error.cause ?? error)
          ),
        )
        yield* logWarnings(response.headers)
        if (response.status === 401) yield* connection.unauthorized
        return { status: response.status, headers: response.headers, body }
      }).pipe(
        Effect.scoped,
        // The request may always be abandoned, even when the caller runs it in an uninterruptible region (the
        // manager shields shared fetches from their callers), and the deadline does not wait for the abandoned
        // request to finish being cancelled: a runtime may take its time to abort a connection that never answered.
        Effect.disconnect,
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () =>
            new TokenFetchError({
              reason: "Timeout",
              description: `${request.method} "${request.url}": request timed out after ${Duration.format(timeout)}`,
            }),
        }),
        Effect.interruptible,
      )

    // kubelet's discovery check: run once, its answer (a failure counting as "no") kept for the fetcher's lifetime.
    // Kept only once it completes, so that a caller interrupted mid-check does not poison the answer for others.
    const discovered = yield* Ref.make(Option.none<boolean>())
    const lock = yield* Effect.makeSemaphore(1)
    const supported = lock.withPermits(1)(
      Effect.flatMap(Ref.get(discovered), (known) =>
        Option.isSome(known)
          ? Effect.succeed(known.value)
          : exchange(HttpClientRequest.get(`${connection.server}/api/v1`)).pipe(
            Effect.map((result) =>
              result.status === 200 && hasTokenRequestResource(result.body)
            ),
            Effect.orElseSucceed(() => false),
            Effect.tap((answer) => Ref.set(discovered, Option.some(answer))),
          )),
    )

    const fetch = (
      namespace: string,
      name: string,
      request: TokenRequest,
    ): Effect.Effect<TokenRequest, TokenFetchError> =>
      Effect.gen(function* () {
        const problem = checkLabel("namespace", namespace) ?? checkSubdomain("name", name)
        if (problem !== undefined) {
          return yield* new TokenFetchError({ reason: "Invalid", description: problem.message })
        }
        const body = yield* Schema.encode(TokenRequestJson)(withoutToken(request)).pipe(
          Effect.mapError(() =>
            new TokenFetchError({ reason: "Invalid", description: "cannot encode the TokenRequest" })
          ),
        )
        const url = `${connection.server}/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`
        const result = yield* exchange(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUnsafeJson(body)))
        if (result.status === 200 || result.status === 201) return yield* decodeTokenRequest(result)
        const failure = decodeFailure(result)
        if (failure.reason === "NotFound" && !(yield* supported)) {
          return yield* new TokenFetchError({ reason: "Unsupported", description: unsupportedMessage, status: 404 })
        }
        return yield* failure
      })

    return TokenFetcher.make(fetch)
  })

/** The fetcher for the connection in context, over the runtime's TLS client (whose resources live in the layer). */
export const layer = (
  options: Options = {},
): Layer.Layer<TokenFetcher.TokenFetcher, TlsHttpClientError, KubeConnection | TlsHttpClient> =>
  Layer.scoped(TokenFetcher.TokenFetcher, scoped(options))

/** Builds the fetcher for the connection in context; the HTTP client is closed with the scope. */
export const scoped = (
  options: Options = {},
): Effect.Effect<TokenFetcher.TokenFetcher, TlsHttpClientError, KubeConnection | TlsHttpClient | Scope.Scope> =>
  Effect.gen(function* () {
    const connection = yield* KubeConnection
    const tls = yield* TlsHttpClient
    // The error names the connection and its user: the material that was refused is theirs.
    const client = yield* tls.make(connection.tls).pipe(
      Effect.mapError((e) =>
        new TlsHttpClientError({
          reason: e.reason,
          description: `${connection.description}${
            connection.user !== undefined ? `, user "${connection.user}"` : ""
          }: ${e.description}`,
        })
      ),
    )
    return yield* make(connection, client, options)
  })
