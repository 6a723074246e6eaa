/**
 * No token leaks, in-process: the real fetcher and the core manager talk to a fault-injecting HTTPS server that puts a
 * unique marker token in every body it sends, good or malformed, while logs are captured at every level (debug, info,
 * warning, error) in text, logfmt and JSON form with their causes. Everything produced is scanned for every marker the
 * server ever sent: log lines, errors (`String`, `inspect`, `JSON.stringify`), the domain objects handed out (inspected
 * and serialised) and a snapshot of every metric. A marker may only be read through `Redacted.value`.
 */
import assert from "node:assert/strict"
import { inspect } from "node:util"
import { after, before, describe, it } from "node:test"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as TestClock from "effect/TestClock"
import * as KubeConnection from "../../adapters/kube/KubeConnection.ts"
import * as KubeTokenFetcher from "../../adapters/kube/KubeTokenFetcher.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import * as TokenManager from "../../core/TokenManager.ts"
import { formatTime } from "../../core/TokenRequest.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { runTest, second, setTime, tokenOf } from "../_support/harness.ts"
import * as FaultServer from "../_support/reliabilityServer.ts"
import { runtime, tlsLayer } from "../_support/runtime.ts"

const epoch = Date.UTC(2030, 0, 1)
let clock = epoch
const markers: Array<string> = []
const marker = () => {
  const m = `LEAKMARKER${markers.length}x${Math.random().toString(36).slice(2)}`
  markers.push(m)
  return m
}

/** The bodies the server cycles through; every one carries a fresh marker. */
const bodies: ReadonlyArray<(seen: FaultServer.Seen) => FaultServer.Answer> = [
  (seen) => ok(seen, {}),
  (seen) => ok(seen, { expirationTimestamp: "not a time" }),
  (seen) => ok(seen, { expirationTimestamp: formatTime(new Date(clock - 60 * second)) }),
  (seen) => ({
    ...ok(seen, {}),
    body: { spec: { audiences: 7 }, status: { token: marker(), expirationTimestamp: 1 } },
  }),
  (seen) => ({ ...ok(seen, {}), body: { spec: {}, status: { token: [marker()], expirationTimestamp: "x" } } }),
  (seen) => ({ ...ok(seen, {}), body: { spec: {}, padding: marker().repeat(500) } }),
  () => ({ status: 500, body: `{"kind":"Status","message":"no","token":"${marker()}"` }),
  () => ({ resetAfter: `{"status":{"token":"${marker()}`, declaredLength: 500 }),
  (seen) => ({ ...ok(seen, {}), headers: { warning: `299 - "shortened"` } }),
]

const ok = (seen: FaultServer.Seen, status: Record<string, unknown>) => {
  const spec = JSON.parse(seen.body).spec
  return {
    status: 201,
    body: {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec,
      status: {
        token: marker(),
        expirationTimestamp: formatTime(new Date(clock + 3600 * second)),
        ...status,
      },
    },
  } as const
}

let server: FaultServer.FaultServer
let next = 0
before(async () => {
  server = await FaultServer.start((seen) => bodies[next++ % bodies.length]!(seen))
})
after(() => server.close())

const connection = (): KubeConnection.KubeConnection => FaultServer.connection(server, "leaks")

describe(`no token leaks (${runtime})`, () => {
  for (const level of [LogLevel.Debug, LogLevel.Info, LogLevel.Warning, LogLevel.Error]) {
    it(`at log level ${level.label}, under faults`, async () => {
      const produced: Array<string> = []
      const capture = Logger.make((options) => {
        produced.push(Logger.stringLogger.log(options))
        produced.push(Logger.logfmtLogger.log(options))
        produced.push(JSON.stringify(Logger.structuredLogger.log(options)))
        produced.push(Cause.pretty(options.cause))
      })
      let handedOut = 0
      clock = epoch
      await runTest(
        Effect.gen(function* () {
          yield* setTime(epoch)
          const fetcher = yield* KubeTokenFetcher.scoped({ maxResponseBytes: 4096 }).pipe(
            Effect.provide(KubeConnection.layerFrom(connection())),
            Effect.provide(tlsLayer),
          )
          const manager = yield* TokenManager.make({ gc: false }).pipe(
            Effect.provideService(TokenFetcher.TokenFetcher, fetcher),
          )
          const requests: ReadonlyArray<TokenRequest> = [
            { spec: { expirationSeconds: 3600 } },
            {
              spec: {
                audiences: ["vault"],
                expirationSeconds: 3600,
                boundObjectRef: { kind: "Pod", name: "p", uid: "u" },
              },
            },
          ]
          for (let round = 0; round < 2 * bodies.length; round++) {
            for (const request of requests) {
              const result = yield* Effect.either(manager.getServiceAccountToken("default", "builder", request))
              const value = result._tag === "Right" ? result.right : result.left
              if (result._tag === "Right") {
                handedOut++
                assert.ok(markers.includes(tokenOf(result.right)!), "a token that was not issued")
              }
              produced.push(String(value), inspect(value, { depth: 10 }), JSON.stringify(value))
              const direct = yield* Effect.either(fetcher.fetch("default", "builder", request))
              const got = direct._tag === "Right" ? direct.right : direct.left
              produced.push(String(got), inspect(got, { depth: 10 }), JSON.stringify(got))
            }
            yield* TestClock.adjust(2900 * second)
            clock += 2900 * second
            yield* manager.invalidate("default", "builder", requests[0]!)
          }
          const snapshot = yield* Metric.snapshot
          produced.push(JSON.stringify(snapshot), inspect(snapshot, { depth: 10 }))
        }).pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
          Logger.withMinimumLogLevel(level),
        ),
      )
      assert.ok(handedOut > 0 && markers.length > 10, "the scenario issued no token")
      assert.ok(produced.length > 50)
      const all = produced.join("\n")
      const leaked = markers.filter((m) => all.includes(m))
      assert.deepEqual(leaked, [], `leaked: ${leaked.map((m) => all.slice(all.indexOf(m) - 200, all.indexOf(m) + 50))}`)
    })
  }
})
