/**
 * The core `TokenFetcher` over the Kubernetes TokenRequest API: one JSON `POST
 * /api/v1/namespaces/{namespace}/serviceaccounts/{name}/token` per fetch through an `HttpClient` built for the
 * connection's TLS material. The 201 response is decoded with the core's `TokenRequestJson`; every failure becomes a
 * `TokenFetchError` whose `reason` follows the HTTP status (or says `Timeout`, `Transport`, `Decode`) and whose
 * description is the server's Status message, never a token. On a 404 the fetcher runs kubelet's discovery check
 * (`GET /api/v1`): a definitive answer is kept for its lifetime, and "no" turns the 404 into `Unsupported`; a failed
 * check is not kept (unlike kubelet, which counts it as "not supported" until restart): the 404 is reported as it came
 * and the next 404 checks again.
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

    // kubelet's discovery check after a 404: does `GET /api/v1` list `serviceaccounts/token`? Only a definitive answer
    // (a 200 whose body is an APIResourceList) is kept, for the fetcher's lifetime. A failed check (transport, timeout,
    // another status, another body) answers `None` and is not kept: the next 404 checks again. One check runs at a
    // time; callers that waited while it ran take its result, kept or not, rather than queueing checks of their own.
    // A check that is interrupted records nothing.
    const discovery = yield* Ref.make({ checks: 0, answer: Option.none<boolean>() })
    const lock = yield* Effect.makeSemaphore(1)
    // A GET is sent again, once and at once, when it failed in transport, as Go's HTTP client does for an idempotent
    // request: a kept-alive connection that the server closed as idle (the race every pooling client meets) fails
    // the request that was sent on it, and a second connection answers.
    const check: Effect.Effect<Option.Option<boolean>> = exchange(
      HttpClientRequest.get(`${connection.server}/api/v1`),
    ).pipe(
      Effect.retry({ times: 1, while: (error) => error.reason === "Transport" }),
      Effect.map((result) => result.status === 200 ? hasTokenRequestResource(result.body) : Option.none()),
      Effect.orElseSucceed(() => Option.none()),
    )
    const supported: Effect.Effect<Option.Option<boolean>> = Effect.gen(function* () {
      const before = yield* Ref.get(discovery)
      return yield* lock.withPermits(1)(Effect.gen(function* () {
        const now = yield* Ref.get(discovery)
        if (Option.isSome(now.answer) || now.checks !== before.checks) return now.answer
        const answer = yield* check
        yield* Ref.set(discovery, { checks: now.checks + 1, answer })
        return answer
      }))
    })

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
        if (failure.reason !== "NotFound") return yield* failure
        // Unsupported only when the server said so: after a failed check, the 404 is all the server said.
        const said = yield* supported
        return yield* Option.isSome(said) && !said.value
          ? new TokenFetchError({ reason: "Unsupported", description: unsupportedMessage, status: 404 })
          : failure
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
