/**
 * Hostile input is refused before any network call or file write, with an error naming the field: through the core
 * manager (the fetcher is never called), through the `token` command run in-process with the CLI's `Command.run` (`Cli.run`) (the API server
 * it points at never sees a request), and through the agent's config decoder. The config decoder and the command-line
 * parser are fuzzed with fast-check: invalid input never crashes with a defect, it always gets a clear error.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { after, before, describe, it } from "node:test"
import * as Path from "@effect/platform/Path"
import * as Terminal from "@effect/platform/Terminal"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import fc from "fast-check"
import * as Config from "../../adapters/agent/Config.ts"
import * as Cli from "../../adapters/cli/Cli.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { fakeFetcher, issued, managerWith, runTest } from "../_support/harness.ts"
import * as FaultServer from "../_support/reliabilityServer.ts"
import { tempDir } from "../_support/agent.ts"
import { runtime, tlsLayer } from "../_support/runtime.ts"
import { platform } from "../_support/platform.ts"

const hostileNames: ReadonlyArray<readonly [string, string]> = [
  ["slash", "a/b"],
  ["dot-dot", ".."],
  ["path traversal", "../kube-system"],
  ["encoded slash", "a%2Fb"],
  ["unicode", "bücher"],
  ["homoglyph", "dеfault"], // Cyrillic е
  ["control character", "a\u0000b"],
  ["newline", "a\nb"],
  ["right-to-left override", "a\u202eb"],
  ["upper case", "Default"],
  ["empty", ""],
  ["too long (254)", "a".repeat(254)],
]

const spec = (s: TokenRequest["spec"]): TokenRequest => ({ spec: s })
const hostileSpecs: ReadonlyArray<readonly [string, TokenRequest, string]> = [
  ["empty audience", spec({ audiences: [""] }), "spec.audiences[0]"],
  ["huge audience", spec({ audiences: ["a".repeat(100_000)] }), "spec.audiences[0]"],
  ["too many audiences", spec({ audiences: Array.from({ length: 1000 }, (_, i) => `a${i}`) }), "spec.audiences"],
  ["fractional expirationSeconds", spec({ expirationSeconds: 3600.5 }), "spec.expirationSeconds"],
  ["negative expirationSeconds", spec({ expirationSeconds: -3600 }), "spec.expirationSeconds"],
  ["NaN expirationSeconds", spec({ expirationSeconds: NaN }), "spec.expirationSeconds"],
  ["Infinity expirationSeconds", spec({ expirationSeconds: Infinity }), "spec.expirationSeconds"],
  ["expirationSeconds above 2^32", spec({ expirationSeconds: 2 ** 32 + 1 }), "spec.expirationSeconds"],
  ["expirationSeconds below 10 minutes", spec({ expirationSeconds: 599 }), "spec.expirationSeconds"],
  [
    "huge bound object name",
    spec({ boundObjectRef: { kind: "Pod", name: "p".repeat(300) } }),
    "spec.boundObjectRef.name",
  ],
]

describe("hostile input through the core manager: refused before any fetch", () => {
  it("names, audiences and lifetimes", () =>
    runTest(Effect.gen(function* () {
      const fake = fakeFetcher((_ns, _n, request) => Effect.succeed(issued(request, "t", Date.UTC(2100, 0, 1))))
      const manager = yield* managerWith(fake)
      const ok = spec({ expirationSeconds: 3600 })
      for (const [what, value] of hostileNames) {
        for (
          const [field, call] of [
            ["namespace", manager.getServiceAccountToken(value, "builder", ok)],
            ["name", manager.getServiceAccountToken("default", value, ok)],
            ["namespace", manager.refresh(value, "builder", ok)],
          ] as const
        ) {
          const error = yield* Effect.flip(call)
          assert.equal(error._tag, "InvalidTokenRequest", `${what} ${field}`)
          if (error._tag === "InvalidTokenRequest") assert.equal(error.field, field, what)
          assert.ok(error.message.includes(field), error.message)
          assert.ok(error.message.length < 400, `${what}: the message echoes the whole value`)
          // the rendering is printable: no raw control characters reach a log line
          // deno-lint-ignore no-control-regex
          assert.ok(!/[\u0000-\u001f]/.test(error.message), JSON.stringify(error.message))
        }
      }
      for (const [what, request, field] of hostileSpecs) {
        const error = yield* Effect.flip(manager.getServiceAccountToken("default", "builder", request))
        assert.equal(error._tag, "InvalidTokenRequest", what)
        if (error._tag === "InvalidTokenRequest") assert.equal(error.field, field, what)
        assert.ok(error.message.length < 400, `${what}: the message echoes the whole value`)
      }
      assert.equal(fake.calls, 0)
      assert.equal(yield* manager.size, 0)
    })))
})

describe(`hostile input through the token command, in-process (${runtime})`, () => {
  let server: FaultServer.FaultServer
  let dir: string
  let kubeconfig: string
  before(async () => {
    server = await FaultServer.start(() => ({ status: 500 }))
    dir = tempDir("hostile")
    kubeconfig = nodePath.join(dir, "kubeconfig")
    fs.writeFileSync(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{name: c, cluster: {server: " + JSON.stringify(server.url) + ", certificate-authority-data: " +
        Buffer.from(server.caPem).toString("base64") + "}}]",
        "users: [{name: u, user: {token: not-a-real-token}}]",
        "contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]",
        "current-context: x",
      ].join("\n"),
      { mode: 0o600 },
    )
  })
  after(async () => {
    await server.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  const shown: Array<string> = []
  const terminal = Layer.succeed(Terminal.Terminal, {
    columns: Effect.succeed(80),
    rows: Effect.succeed(24),
    isTTY: Effect.succeed(false),
    readInput: Effect.die("no input"),
    readLine: Effect.die("no input"),
    display: (text: string) => Effect.sync(() => void shown.push(text)),
  } as unknown as Terminal.Terminal)
  /** Runs `sa-token token ARGS` in-process through the CLI's `Command.run`; console output of the CLI's own error reporting is captured, not printed. */
  const token = async (args: ReadonlyArray<string>) => {
    const original = globalThis.console.error
    const printed: Array<string> = []
    globalThis.console.error = (...parts: Array<unknown>) => void printed.push(parts.join(" "))
    try {
      const exit = await Effect.runPromiseExit(
        Cli.run(["node", "sa-token", "token", ...args, "--kubeconfig", kubeconfig]).pipe(
          Effect.provide(Layer.mergeAll(platform, terminal, tlsLayer)),
        ),
      )
      return { exit, printed }
    } finally {
      globalThis.console.error = original
    }
  }
  const refused = async (args: ReadonlyArray<string>, field: RegExp) => {
    const before = server.requests.length
    const { exit, printed } = await token(args)
    assert.ok(Exit.isFailure(exit), `accepted: ${JSON.stringify(args)}`)
    if (Exit.isFailure(exit)) {
      assert.ok(!Cause.isDie(exit.cause), `a defect for ${JSON.stringify(args)}: ${Cause.pretty(exit.cause)}`)
      const text = [Cause.pretty(exit.cause), ...printed].join("\n")
      assert.match(text, field, JSON.stringify(args))
    }
    assert.equal(server.requests.length, before, `a request went out for ${JSON.stringify(args)}`)
  }

  it("refuses hostile names, namespaces, audiences and durations before any request", async () => {
    for (const [, value] of hostileNames.filter(([, v]) => v !== "" && !v.includes("\u0000"))) {
      await refused([value], /name/i)
      await refused(["builder", "-n", value], /namespace/i)
    }
    await refused(["builder", "--duration", "-1h"], /--duration/)
    await refused(["builder", "--duration", "1.5s"], /--duration/)
    await refused(["builder", "--duration", "NaN"], /--duration/)
    await refused(["builder", "--duration", `${2 ** 32 + 1}s`], /duration|expiration/i)
    await refused(["builder", "--bound-object-name", "p"], /--bound-object-kind/)
    await refused(["builder", "--bound-object-kind", "ConfigMap", "--bound-object-name", "p"], /--bound-object-kind/)
    await refused(["builder", "-o", "yaml"], /output format/)
  })

  it("refuses an empty --audience before any request", async () => {
    await refused(["builder", "--audience", ""], /--audience/)
  })

  it("fuzz: a hostile service-account name never crashes the parser and never reaches the server", async () => {
    const hostile = fc.oneof(
      fc.constantFrom(...hostileNames.map(([, v]) => v).filter((v) => v !== "" && !v.includes("\u0000"))),
      fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s)),
    ).filter((s) => !s.startsWith("-") && !s.includes("\u0000"))
    const extra = fc.array(
      fc.oneof(
        fc.tuple(fc.constant("--audience"), fc.string({ maxLength: 20 })),
        fc.tuple(fc.constant("--duration"), fc.string({ maxLength: 10 }).filter((s) => !s.startsWith("-"))),
        fc.tuple(fc.constant("-o"), fc.constantFrom("json", "token", "yaml", "")),
        fc.tuple(fc.constant("--bound-object-kind"), fc.constantFrom("Pod", "Node", "x")),
      ),
      { maxLength: 3 },
    )
    await fc.assert(
      fc.asyncProperty(hostile, extra, async (name, flags) => {
        const before = server.requests.length
        const { exit } = await token([name, ...flags.flat()])
        if (Exit.isFailure(exit) && Cause.isDie(exit.cause)) throw new Error(Cause.pretty(exit.cause))
        return Exit.isFailure(exit) && server.requests.length === before
      }),
      { numRuns: 100, seed: 8 },
    )
  })
})

describe("hostile agent configs", () => {
  const path: Path.Path = Effect.runSync(Path.Path.pipe(Effect.provide(Path.layer)))
  const file = "/etc/agent/agent.yaml"
  const token = { name: "vault", namespace: "default", serviceAccount: "builder" }
  const refusedAt = (document: unknown, field: string) => {
    const result = Config.decode(document, file, path)
    assert.ok(Either.isLeft(result), `accepted: ${JSON.stringify(document).slice(0, 200)}`)
    assert.ok(result.left.issues.some((i) => i.path === field), `${field}: ${result.left.message}`)
    assert.ok(result.left.message.includes(field), result.left.message)
  }

  it("refuses hostile names, lifetimes, audiences, modes and paths, naming the field", () => {
    for (const [, value] of hostileNames) {
      refusedAt({ tokens: [{ ...token, namespace: value }] }, "tokens[0].namespace")
      refusedAt({ tokens: [{ ...token, serviceAccount: value }] }, "tokens[0].serviceAccount")
    }
    for (const seconds of [3600.5, -3600, NaN, Infinity, 2 ** 32 + 1, "3600"]) {
      refusedAt({ tokens: [{ ...token, expirationSeconds: seconds }] }, "tokens[0].expirationSeconds")
    }
    refusedAt({ tokens: [{ ...token, audiences: [""] }] }, "tokens[0].audiences[0]")
    refusedAt({ tokens: [{ ...token, file: { path: "t", mode: 777 } }] }, "tokens[0].file.mode")
    refusedAt({ tokens: [{ ...token, file: { path: "t", mode: "777777" } }] }, "tokens[0].file.mode")
    refusedAt({ tokens: [{ ...token, file: { path: "../../etc/passwd" } }] }, "tokens[0].file.path")
    refusedAt({ tokens: [{ ...token, file: { path: "." } }] }, "tokens[0].file.path")
    refusedAt({ tokens: [token], endpoint: { unix: { path: "s", mode: 511 } } }, "endpoint.unix.mode")
    refusedAt({ tokens: [{ ...token, name: 7 }] }, "tokens[0].name")
    refusedAt({ tokens: "vault" }, "tokens")
    refusedAt({ tokens: [{ ...token, __proto__: { polluted: true }, constructor: "x" }] }, "tokens[0].constructor")
  })

  it("refuses audiences the core would refuse (longer than 2048 characters, more than 64)", {}, () => {
    refusedAt({ tokens: [{ ...token, audiences: ["a".repeat(100_000)] }] }, "tokens[0].audiences[0]")
    refusedAt(
      { tokens: [{ ...token, audiences: Array.from({ length: 100 }, (_, i) => `a${i}`) }] },
      "tokens[0].audiences",
    )
  })

  it("fuzz: the decoder never crashes; a refused config always names a field", () => {
    const valid = { tokens: [token] }
    const key = fc.constantFrom("tokens", "defaults", "endpoint", "budget", "log", "cluster", "extra", "__proto__")
    const mutation = fc.oneof(
      fc.anything(),
      fc.record({ [0]: fc.constant(0) }).map(() => valid),
      fc.dictionary(key, fc.anything()),
      fc.record({
        tokens: fc.array(
          fc.dictionary(
            fc.constantFrom("name", "namespace", "serviceAccount", "audiences", "expirationSeconds", "file", "x"),
            fc.oneof(fc.anything(), fc.string(), fc.double(), fc.constantFrom(NaN, -1, 2 ** 33)),
          ),
          { maxLength: 3 },
        ),
      }),
    )
    fc.assert(
      fc.property(mutation, (document) => {
        const result = Config.decode(document, file, path)
        if (Either.isRight(result)) return true
        const error = result.left
        return error._tag === "ConfigError" && error.issues.length > 0 &&
          error.issues.every((i) => typeof i.message === "string" && i.message.length > 0) &&
          error.message.startsWith(`invalid config ${file}: `)
      }),
      { numRuns: 200, seed: 8 },
    )
  })
})
