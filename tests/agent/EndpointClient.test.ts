/**
 * Tests of the endpoint client on TCP, where any local user can listen on the agent's port while the agent is stopped:
 * such a listener gets no bearer token and nothing it can ask the agent with, and its answers are refused.
 */
import assert from "node:assert/strict"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Endpoint from "../../adapters/agent/Endpoint.ts"
import * as EndpointClient from "../../adapters/agent/EndpointClient.ts"
import * as SealedReply from "../../adapters/agent/SealedReply.ts"
import * as TokenReply from "../../adapters/agent/TokenReply.ts"
import * as NodeLocalHttp from "../../adapters/platform/NodeLocalHttp.ts"
import { fakeAgent, request, status } from "../_support/agentFakes.ts"

const MARKER = "MARKER-51c0de-DO-NOT-LEAK"
const bearerToken = Redacted.make(`${MARKER}-bearer`)
const future = new Date(Date.UTC(2100, 0, 1))
const agent = fakeAgent([{ status: status("app", { expiresAt: future }), token: `${MARKER}-app` }])

interface Seen {
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
}

/** A listener of another user's on 127.0.0.1: records each request and answers `answer`. */
const withSquatter = async (
  answer: { readonly status: number; readonly body: string },
  body: (port: number, seen: Array<Seen>) => Promise<void>,
): Promise<void> => {
  const seen: Array<Seen> = []
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? "", headers: req.headers })
    res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  try {
    await body((server.address() as AddressInfo).port, seen)
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}

const ask = (port: number, secret = bearerToken) =>
  EndpointClient.token({ _tag: "Tcp", host: "127.0.0.1", port, bearerToken: secret }, "app").pipe(
    Effect.provide(NodeLocalHttp.layer),
    Effect.exit,
    Effect.runPromise,
  )

const failure = (exit: Exit.Exit<unknown, EndpointClient.EndpointClientError>): EndpointClient.EndpointClientError => {
  assert.ok(Exit.isFailure(exit) && exit.cause._tag === "Fail", String(exit))
  return exit.cause.error
}

/** Runs `body` against the agent's endpoint on a loopback port, with the bearer token. */
const withAgent = (body: (port: number) => Promise<void>): Promise<void> =>
  Effect.gen(function* () {
    const endpoint = yield* Endpoint.make({ _tag: "Tcp", host: "127.0.0.1", port: 0, bearerToken })
    assert.ok(endpoint.address._tag === "Tcp")
    const port = endpoint.address.port
    yield* Effect.promise(() => body(port))
  }).pipe(Effect.scoped, Effect.provide([agent.layer, NodeLocalHttp.layer]), Effect.runPromise)

describe("EndpointClient on TCP", () => {
  it("gets the token from the agent without sending the bearer token", () =>
    withAgent(async (port) => {
      const exit = await ask(port)
      assert.ok(Exit.isSuccess(exit), String(exit))
      assert.equal(Redacted.value(exit.value.status!.token), `${MARKER}-app`)
      // Holding another secret gets no token.
      assert.equal(failure(await ask(port, Redacted.make("another-secret"))).reason, "Unauthorized")
    }))

  it("gives a listener that is not the agent nothing to ask the agent with, and refuses its answer", async () => {
    const forged = JSON.stringify(
      TokenReply.encode({ name: "app", token: Redacted.make("forged"), expirationTimestamp: future }),
    )
    await withSquatter({ status: 200, body: forged }, async (port, seen) => {
      const error = failure(await ask(port))
      assert.equal(error.reason, "Untrusted")
      assert.match(error.message, /not sealed with the endpoint's bearer token/)
      assert.ok(!error.message.includes("forged"))
      assert.equal(seen.length, 1)
      assert.ok(!JSON.stringify(seen).includes(MARKER), "the request leaks the bearer token")
      // The listener replays what it saw to the agent, once it is back: it gets a sealed answer it cannot open.
      await withAgent(async (agentPort) => {
        const replayed = await request({ host: "127.0.0.1", port: agentPort }, seen[0]!.url, {
          headers: { authorization: String(seen[0]!.headers.authorization) },
        })
        assert.equal(replayed.status, 200)
        assert.ok(!replayed.body.includes(MARKER), "the replayed request gets the token in clear")
        // Only the bearer token opens it: it is the token, sealed.
        const nonce = /nonce=([\w-]+)/.exec(String(seen[0]!.headers.authorization))![1]!
        const open = (secret: Redacted.Redacted<string>) =>
          Effect.runPromise(SealedReply.open(secret, nonce, seen[0]!.url, 200, replayed.body))
        assert.ok(Option.isNone(await open(Redacted.make("forged"))))
        assert.match(Option.getOrThrow(await open(bearerToken)), new RegExp(`${MARKER}-app`))
      })
    })
  })

  it("refuses a listener's unsealed refusals too, except a 401, which is reported as one", async () => {
    for (const [code, reason] of [[404, "Untrusted"], [503, "Untrusted"], [500, "Untrusted"], [401, "Unauthorized"]]) {
      await withSquatter({ status: Number(code), body: "{}" }, async (port) => {
        assert.equal(failure(await ask(port)).reason, reason, String(code))
      })
    }
  })
})
