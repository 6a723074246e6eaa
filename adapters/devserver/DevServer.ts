/**
 * Starting the development API server: its options, the running server's in-process API (state, faults, counters,
 * signer), `start` in the caller's scope and `layer`. Token times come from Effect's `Clock` in the scope that started
 * the server (so a TestClock drives them); fault latency is real time.
 *
 * @module
 */
import type { JWK } from "jose"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { DevServerError } from "./DevServerError.ts"
import type { Faults } from "./Faults.ts"
import * as FaultsModule from "./Faults.ts"
import * as Handler from "./Handler.ts"
import * as Kubeconfig from "./Kubeconfig.ts"
import * as Pki from "./Pki.ts"
import { makeSigner } from "./Signer.ts"
import type { DevState } from "./State.ts"
import * as State from "./State.ts"
import type { StateInput } from "./StateFile.ts"
import { defaultState } from "./StateFile.ts"
import type { TokenConfig } from "./TokenEndpoint.ts"
import * as Transport from "./Transport.ts"
import type * as Connections from "../platform/Connections.ts"

/** How to start the server. Every field is optional. */
export interface Options {
  /** `host:port`; default `127.0.0.1:0` (a free port). */
  readonly listen?: string
  /** `--service-account-issuer`; default `https://kubernetes.default.svc.cluster.local`. */
  readonly issuer?: string
  /** `--api-audiences`; default `[issuer]`. */
  readonly apiAudiences?: ReadonlyArray<string>
  /** `--service-account-max-token-expiration` in seconds; default none (0). */
  readonly maxTokenExpirationSeconds?: number
  /** `--service-account-extend-token-expiration`; default true. */
  readonly extendTokenExpiration?: boolean
  /** The smallest accepted `expirationSeconds`; default 600 (lower it only for demos). */
  readonly minTokenExpirationSeconds?: number
  /** The lifetime of extended tokens; default one year. */
  readonly maxExtendedExpirationSeconds?: number
  /** The initial state; default: namespace `default`, service account `default`, pod `demo` on `node-1`. */
  readonly state?: StateInput
  /** Where to write the admin kubeconfig (mode 0600). */
  readonly kubeconfigOut?: string
  /** A CA to use instead of a fresh one (PEM certificate and PKCS#8 key). */
  readonly ca?: { readonly certPem: string; readonly keyPem: string }
  /**
   * Limits on connections; unset fields take the defaults: 512 open at once, 10 s for the TLS handshake and again for
   * a request's headers, 30 s idle between requests, 60 s per request.
   */
  readonly connections?: ConnectionLimits
}

/** Limits on the server's connections (see {@link Options.connections}). */
export type ConnectionLimits = Connections.Limits

/** Counters tests can assert on (live values). */
export interface Stats {
  /** TokenRequests answered with a token. */
  readonly tokensIssued: number
  /** Requests received. */
  readonly requests: number
  /** Faults injected so far. */
  readonly faultsInjected: number
  /** Watches open now. */
  readonly watches: number
}

/** A running development API server. */
export interface DevServer {
  /** `https://127.0.0.1:PORT`. */
  readonly url: string
  /** The port it listens on. */
  readonly port: number
  /** The server's CA certificate (PEM), to trust it. */
  readonly caPem: string
  /** The admin kubeconfig (YAML text). */
  readonly kubeconfig: string
  /** The admin client certificate (PEM; user `kubernetes-admin`, group `system:masters`). */
  readonly adminCertPem: string
  /** The admin client certificate's private key (PEM). */
  readonly adminKeyPem: string
  /** The service-account issuer (`iss` of every token). */
  readonly issuer: string
  /** The audiences tokens get when a TokenRequest names none. */
  readonly apiAudiences: ReadonlyArray<string>
  /** The live state; changes apply to the next request. */
  readonly state: DevState
  /** Fault injection; applies to the next matching requests. */
  readonly faults: Faults
  /** The signing key's `kid` and JWKS. */
  readonly signer: SignerInfo
  /** Issues a client certificate signed by the server's CA (CN = user, O = groups). */
  readonly issueClientCert: (
    user: string,
    groups: ReadonlyArray<string>,
  ) => Effect.Effect<{ readonly certPem: string; readonly keyPem: string }, DevServerError>
  /** Live counters. */
  readonly stats: Stats
}

/** What the server publishes about its signing key. */
export interface SignerInfo {
  /** The key ID (`kid` in every token's header). */
  readonly kid: string
  /** The JSON Web Key Set served at `/openid/v1/jwks`. */
  readonly jwks: { readonly keys: ReadonlyArray<JWK> }
}

const defaultIssuer = "https://kubernetes.default.svc.cluster.local"
const year = 365 * 24 * 60 * 60

const parseListen = (listen: string): Effect.Effect<{ host: string; port: number }, DevServerError> => {
  const match = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(listen)
  const port = match ? Number(match[2]) : NaN
  return match === null || port > 65535
    ? Effect.fail(
      new DevServerError({
        reason: "Options",
        description: `--listen: expected HOST:PORT, got ${JSON.stringify(listen)}`,
      }),
    )
    : Effect.succeed({ host: match[1] === "" ? "127.0.0.1" : match[1]!.replace(/^\[|\]$/g, ""), port })
}

const positive = (name: string, value: number | undefined): Effect.Effect<void, DevServerError> =>
  value === undefined || (Number.isInteger(value) && value >= 0) ? Effect.void : Effect.fail(
    new DevServerError({ reason: "Options", description: `${name}: expected whole seconds, got ${value}` }),
  )

const pki = <A>(effect: Effect.Effect<A, Pki.PkiError>): Effect.Effect<A, DevServerError> =>
  Effect.mapError(effect, (e) => new DevServerError({ reason: "Pki", description: e.message }))

/** Starts the server in the current scope; it stops (every connection closed) when the scope closes. */
export const start = (options: Options = {}): Effect.Effect<DevServer, DevServerError, Scope.Scope> =>
  Effect.gen(function* () {
    const { host, port } = yield* parseListen(options.listen ?? "127.0.0.1:0")
    yield* positive("maxTokenExpirationSeconds", options.maxTokenExpirationSeconds)
    yield* positive("minTokenExpirationSeconds", options.minTokenExpirationSeconds)
    const runtime = yield* Effect.runtime<never>()
    const now = (): Date => new Date(Runtime.runSync(runtime)(Clock.currentTimeMillis))
    const issuer = options.issuer ?? defaultIssuer
    const config: TokenConfig = {
      issuer,
      apiAudiences: options.apiAudiences && options.apiAudiences.length > 0 ? options.apiAudiences : [issuer],
      maxTokenExpirationSeconds: options.maxTokenExpirationSeconds ?? 0,
      extendTokenExpiration: options.extendTokenExpiration ?? true,
      minTokenExpirationSeconds: options.minTokenExpirationSeconds ?? 600,
      maxExtendedExpirationSeconds: options.maxExtendedExpirationSeconds ?? year,
    }
    const ca = yield* pki(options.ca ? Pki.loadCa(options.ca.certPem, options.ca.keyPem) : Pki.makeCa("devserver-ca"))
    const hosts = [
      "127.0.0.1",
      "localhost",
      ...(["127.0.0.1", "localhost", "0.0.0.0", "::"].includes(host) ? [] : [host]),
    ]
    const serverCert = yield* pki(Pki.issueServerCert(ca, { hosts }))
    const admin = yield* pki(
      Pki.issueClientCert(ca, { commonName: "kubernetes-admin", organizations: ["system:masters"] }),
    )
    const signer = yield* makeSigner(issuer)
    const state = State.make(options.state ?? defaultState, now)
    const faults = FaultsModule.make()
    const counters: Handler.Counters = { requests: 0, tokensIssued: 0, watches: 0, answered: new Map() }
    let url = ""
    const issue = (user: string, groups: ReadonlyArray<string>) =>
      Pki.issueClientCertAsync(ca, { commonName: user, organizations: groups })
    const ctx: Handler.HandlerContext = {
      config,
      state,
      signer,
      ca,
      faults,
      counters,
      now,
      url: () => url,
      onTokenIssued: () => {
        counters.tokensIssued++
      },
      issueClientCert: issue,
    }
    const listening = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          Transport.listen({
            host,
            port,
            certPem: serverCert.certPem,
            keyPem: serverCert.keyPem,
            caPem: ca.certPem,
            connections: options.connections,
            handle: (incoming) => Handler.handle(ctx, incoming),
          }),
        catch: (e) => new DevServerError({ reason: "Listen", description: `${host}:${port}: ${String(e)}` }),
      }),
      (l) => Effect.promise(() => l.close()),
    )
    const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host
    url = `https://${urlHost}:${listening.port}`
    const kubeconfig = Kubeconfig.render({
      server: url,
      caPem: ca.certPem,
      certPem: admin.certPem,
      keyPem: admin.keyPem,
    })
    if (options.kubeconfigOut !== undefined) yield* Kubeconfig.writePrivate(options.kubeconfigOut, kubeconfig)
    const server: DevServer = {
      url,
      port: listening.port,
      caPem: ca.certPem,
      kubeconfig,
      adminCertPem: admin.certPem,
      adminKeyPem: admin.keyPem,
      issuer,
      apiAudiences: config.apiAudiences,
      state,
      faults,
      signer: { kid: signer.kid, jwks: signer.jwks },
      issueClientCert: (user, groups) => pki(Pki.issueClientCert(ca, { commonName: user, organizations: groups })),
      stats: {
        get tokensIssued() {
          return counters.tokensIssued
        },
        get requests() {
          return counters.requests
        },
        get faultsInjected() {
          return faults.injected()
        },
        get watches() {
          return counters.watches
        },
      },
    }
    return server
  })

/** The running server as a service, for programs that receive it from a layer. */
export const DevServer: Context.Tag<DevServer, DevServer> = Context.GenericTag<DevServer>("sa-token/DevServer")

/** A layer that starts the server and stops it when the layer's scope closes. */
export const layer = (options: Options = {}): Layer.Layer<DevServer, DevServerError> =>
  Layer.scoped(DevServer, start(options))
