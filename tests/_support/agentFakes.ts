/**
 * Test helpers for the agent's endpoint, metrics and ExecCredential suites: a fake `AgentState` whose tokens can be
 * changed at any time, and a tiny `node:http` client for unix sockets and TCP.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as http from "node:http"
import { AgentState } from "../../adapters/agent/AgentState.ts"
import type { TokenStatus } from "../../adapters/agent/AgentState.ts"
import type { Flags as ExecCredentialFlags } from "../../adapters/cli/ExecCredentialCommand.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"

/** One declared token of the fake agent. */
export interface FakeToken {
  status: TokenStatus
  token?: string | undefined
}

/** A fake agent: declared tokens, their tokens and readiness, all mutable. */
export interface FakeAgent {
  tokens: Array<FakeToken>
  ready: boolean
  readonly layer: Layer.Layer<AgentState>
}

/** A status with defaults. */
export const status = (name: string, fields: Partial<TokenStatus> = {}): TokenStatus => ({
  name,
  namespace: "default",
  serviceAccount: `sa-${name}`,
  key: `"sa-${name}"/"default"`,
  phase: "valid",
  refreshes: 1,
  failures: 0,
  ...fields,
})

export const fakeAgent = (tokens: Array<FakeToken>, ready = true): FakeAgent => {
  const agent: FakeAgent = {
    tokens,
    ready,
    layer: Layer.sync(AgentState, () =>
      AgentState.of({
        list: Effect.sync(() => agent.tokens.map((t) => t.status)),
        ready: Effect.sync(() => agent.ready),
        token: (name) =>
          Effect.sync(() => {
            const found = agent.tokens.find((t) => t.status.name === name)
            if (found?.token === undefined || found.status.expiresAt === undefined) return Option.none()
            const response: TokenRequest = {
              spec: { expirationSeconds: 3600 },
              status: { token: Redacted.make(found.token), expirationTimestamp: found.status.expiresAt },
            }
            return Option.some({ response, status: found.status })
          }),
      })),
  }
  return agent
}

/** A response read by {@link get}. */
export interface Reply {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/** Where to send a request. */
export type Target = { readonly socketPath: string } | { readonly host: string; readonly port: number }

/** Sends one request (no keep-alive) and reads the whole reply. */
export const request = (
  target: Target,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = http.request({
      ...target,
      path,
      method: options.method ?? "GET",
      headers: options.headers,
      agent: false,
    }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => (body += chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(options.body)
  })

/** `exec-credential` flags with every field unset, overridden by `fields`. */
export const execCredentialFlags = (fields: Partial<ExecCredentialFlags> = {}): ExecCredentialFlags => ({
  serviceAccount: Option.none(),
  name: Option.none(),
  socket: Option.none(),
  config: Option.none(),
  socketOwner: Option.none(),
  namespace: Option.none(),
  audience: [],
  duration: Option.none(),
  boundObjectKind: Option.none(),
  boundObjectName: Option.none(),
  boundObjectUid: Option.none(),
  kubeconfig: Option.none(),
  context: Option.none(),
  cacheDir: Option.none(),
  ...fields,
})
