import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import * as Endpoint from "../../adapters/agent/Endpoint.ts"
import * as ExecCredential from "../../adapters/agent/ExecCredential.ts"
import * as CacheHit from "../../adapters/cli/ExecCredentialCacheHit.ts"
import { answer, parse } from "../../adapters/cli/ExecCredentialLean.ts"
import * as SocketHit from "../../adapters/cli/ExecCredentialSocketHit.ts"
import * as KubeconfigContext from "../../adapters/kube/KubeconfigContext.ts"
import * as TokenFetcher from "../../core/TokenFetcher.ts"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import { execCredentialFlags, fakeAgent, status } from "../_support/agentFakes.ts"
import { type Platform, platform } from "../_support/platform.ts"
import { withTempDir } from "../_support/scratch.ts"

const MARKER = "MARKER-exechit-5e1a"

describe("exec-credential lean path: the command line", () => {
  it("reads the flags the full command reads, in both spellings", () => {
    assert.deepEqual(
      parse([
        "builder",
        "-n",
        "apps",
        "--audience",
        "a",
        "--audience=b",
        "--duration=1h",
        "--bound-object-kind",
        "Pod",
        "--bound-object-name",
        "p",
        "--bound-object-uid=u",
        "--kubeconfig",
        "/k",
        "--context=c",
        "--cache-dir",
        "/c",
      ]),
      execCredentialFlags({
        serviceAccount: Option.some("builder"),
        namespace: Option.some("apps"),
        audience: ["a", "b"],
        duration: Option.some("1h"),
        boundObjectKind: Option.some("Pod"),
        boundObjectName: Option.some("p"),
        boundObjectUid: Option.some("u"),
        kubeconfig: Option.some("/k"),
        context: Option.some("c"),
        cacheDir: Option.some("/c"),
      }),
    )
    assert.deepEqual(
      parse(["--name", "t", "--socket", "/run/agent.sock"]),
      execCredentialFlags({ name: Option.some("t"), socket: Option.some("/run/agent.sock") }),
    )
  })

  it("leaves to the full command whatever it might read differently or refuse", () => {
    const refused: ReadonlyArray<ReadonlyArray<string>> = [
      ["a", "b"], // two service accounts
      ["a", "--namespace", "x", "-n", "y"], // a single-valued flag twice
      ["a", "--namespace"], // no value
      ["a", "--namespace", "-x"], // a value that looks like a flag
      ["a", "--audience", ""], // an empty value, which @effect/cli drops
      ["a", "--audience="],
      ["", "a"],
      ["a", "-n=x"], // not a spelling @effect/cli accepts
      ["a", "--audience=x=y"], // @effect/cli keeps only what is before a second "="
      ["a", "--log-level", "debug"], // built-in options
      ["a", "--help"],
      ["a", "-h"],
      ["a", "--output", "json"], // unknown flags
      ["a", "--", "b"],
      ["a", "--toString", "x"], // not an own spelling
    ]
    for (const args of refused) assert.equal(parse(args), undefined, args.join(" "))
  })
})

/** Runs the lean path for `exec-credential ARGS` and returns whether it answered and what it printed. */
const runHit = (args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const flags = parse(args)
    assert.ok(flags !== undefined, args.join(" "))
    const found: Effect.Effect<Option.Option<TokenRequest>, never, Platform> = Option.isSome(flags.name)
      ? SocketHit.fromSocket(flags)
      : CacheHit.fromCache(flags)
    const log = globalThis.console.log
    let out = ""
    globalThis.console.log = (...parts: Array<unknown>) => {
      out += `${parts.join(" ")}\n`
    }
    const answered = yield* answer(found).pipe(Effect.ensuring(Effect.sync(() => (globalThis.console.log = log))))
    return { answered, out }
  })

const kubeconfigText = `apiVersion: v1
kind: Config
current-context: dev
contexts:
  - name: dev
    context: { cluster: dev, user: dev, namespace: apps }
clusters:
  - name: dev
    cluster: { server: "https://127.0.0.1:1" }
users:
  - name: dev
    user: { token: not-used }
`

describe("exec-credential lean path: the on-disk cache", () => {
  it("answers from an entry the cache's manager serves as it is, and leaves it to the full command once it needs a refresh", () =>
    withTempDir("sa-exechit", async (dir) => {
      const kubeconfig = path.join(dir, "kubeconfig")
      fs.writeFileSync(kubeconfig, kubeconfigText)
      const cache = path.join(dir, "cache")
      let fetches = 0
      const fetcher = TokenFetcher.make((_namespace, _name, request) =>
        Effect.map(Effect.clockWith((clock) => clock.currentTimeMillis), (now) => {
          fetches++
          return {
            ...request,
            status: { token: Redacted.make(`${MARKER}-${fetches}`), expirationTimestamp: new Date(now + 3600_000) },
          }
        })
      )
      const args = ["builder", "--kubeconfig", kubeconfig, "--cache-dir", cache, "--duration", "1h"]
      await Effect.gen(function* () {
        // An empty cache: nothing printed, no TokenRequest.
        assert.deepEqual(yield* runHit(args), { answered: false, out: "" })
        // The full command's cache write (the same store, the context's namespace, the same request).
        const described = Option.getOrThrow(yield* KubeconfigContext.describe({ kubeconfig }))
        assert.equal(described.namespace, "apps")
        yield* ExecCredential.get("apps", "builder", { spec: { expirationSeconds: 3600 } }, {
          directory: cache,
          cluster: described.identity,
        }).pipe(Effect.provideService(TokenFetcher.TokenFetcher, fetcher))
        assert.equal(fetches, 1)

        // With --namespace the kubeconfig is only hashed; without it, the namespace the full command remembered for
        // this kubeconfig is needed (the lean path parses nothing).
        assert.equal(JSON.parse((yield* runHit([...args, "-n", "apps"])).out).status.token, `${MARKER}-1`)
        assert.deepEqual(yield* runHit(args), { answered: false, out: "" })
        yield* ExecCredential.rememberNamespace({ directory: cache, cluster: described.identity }, described.namespace)
        const hit = yield* runHit(args)
        assert.equal(hit.answered, true)
        assert.equal(JSON.parse(hit.out).status.token, `${MARKER}-1`)
        // Another request (namespace, audience) or another context is another entry.
        assert.equal((yield* runHit([...args, "-n", "other"])).answered, false)
        assert.equal((yield* runHit([...args, "--audience", "vault"])).answered, false)
        assert.equal((yield* runHit([...args, "--context", "missing"])).answered, false)
        // An edited kubeconfig is another identity.
        fs.appendFileSync(kubeconfig, "# edited\n")
        assert.equal((yield* runHit(args)).answered, false)
        fs.writeFileSync(kubeconfig, kubeconfigText)
        // Past the refresh point (80 % of the hour, less at most 9 s of jitter) the manager would fetch: no answer.
        yield* TestClock.adjust("47 minutes")
        assert.equal((yield* runHit(args)).answered, true)
        yield* TestClock.adjust("2 minutes")
        assert.deepEqual(yield* runHit(args), { answered: false, out: "" })
        assert.equal(fetches, 1)
      }).pipe(Effect.provide(platform), Effect.provide(TestContext.TestContext), Effect.runPromise)
    }))

  it("finds the entry the full command wrote for a symlinked kubeconfig and for a KUBECONFIG list", () =>
    withTempDir("sa-exechit", async (dir) => {
      const real = path.join(dir, "real.yaml")
      fs.writeFileSync(real, kubeconfigText)
      const link = path.join(dir, "config")
      fs.symlinkSync(real, link)
      const extra = path.join(dir, "extra.yaml")
      fs.writeFileSync(extra, "apiVersion: v1\nkind: Config\n")
      const cache = path.join(dir, "cache")
      const fetcher = TokenFetcher.make((_namespace, _name, request) =>
        Effect.succeed({
          ...request,
          status: { token: Redacted.make(MARKER), expirationTimestamp: new Date(Date.now() + 3600_000) },
        })
      )
      const list = `${link}:${path.join(dir, "missing.yaml")}:${extra}`
      const saved = process.env.KUBECONFIG
      await Effect.gen(function* () {
        for (
          const [connection, args] of [
            [{ kubeconfig: link }, ["builder", "--kubeconfig", link, "--cache-dir", cache]],
            [{}, ["builder", "--cache-dir", cache]],
          ] as const
        ) {
          process.env.KUBECONFIG = list
          // What the full command reads through the file system, and remembers.
          const described = Option.getOrThrow(yield* KubeconfigContext.describe(connection))
          const options = { directory: cache, cluster: described.identity }
          yield* ExecCredential.get(described.namespace, "builder", { spec: {} }, options)
            .pipe(Effect.provideService(TokenFetcher.TokenFetcher, fetcher))
          yield* ExecCredential.rememberNamespace(options, described.namespace)
          // The lean path reads the same bytes through the private-file port, symlinks followed.
          assert.equal(JSON.parse((yield* runHit(args)).out).status.token, MARKER, args.join(" "))
        }
      }).pipe(
        Effect.ensuring(
          Effect.sync(() => saved === undefined ? delete process.env.KUBECONFIG : process.env.KUBECONFIG = saved),
        ),
        Effect.provide(platform),
        Effect.runPromise,
      )
    }))

  it("ignores an entry another user could have written, silently (the full command says why)", () =>
    withTempDir("sa-exechit", async (dir) => {
      const kubeconfig = path.join(dir, "kubeconfig")
      fs.writeFileSync(kubeconfig, kubeconfigText)
      const cache = path.join(dir, "cache")
      const fetcher = TokenFetcher.make((_namespace, _name, request) =>
        Effect.succeed({
          ...request,
          status: { token: Redacted.make(MARKER), expirationTimestamp: new Date(Date.now() + 3600_000) },
        })
      )
      const args = ["builder", "--kubeconfig", kubeconfig, "--cache-dir", cache]
      await Effect.gen(function* () {
        const described = Option.getOrThrow(yield* KubeconfigContext.describe({ kubeconfig }))
        const options = { directory: cache, cluster: described.identity }
        yield* ExecCredential.get("apps", "builder", { spec: {} }, options)
          .pipe(Effect.provideService(TokenFetcher.TokenFetcher, fetcher))
        yield* ExecCredential.rememberNamespace(options, described.namespace)
        assert.equal((yield* runHit(args)).answered, true)
        fs.chmodSync(cache, 0o777)
        const errors: Array<unknown> = []
        const error = globalThis.console.error
        globalThis.console.error = (...parts: Array<unknown>) => void errors.push(...parts)
        const answer = yield* runHit(args).pipe(Effect.ensuring(Effect.sync(() => (globalThis.console.error = error))))
        assert.deepEqual(answer, { answered: false, out: "" })
        assert.deepEqual(errors, [])
      }).pipe(Effect.provide(platform), Effect.runPromise)
    }))
})

describe("exec-credential lean path: the agent's socket", () => {
  it("prints the agent's token, and answers nothing when the agent refuses or is gone", () =>
    withTempDir("sa-exechit", async (dir) => {
      const socket = path.join(dir, "agent.sock")
      const fake = fakeAgent([
        { status: status("app", { expiresAt: new Date(Date.UTC(2100, 0, 1)) }), token: `${MARKER}-app` },
        { status: status("waiting", { phase: "pending" }) },
      ])
      await Effect.gen(function* () {
        yield* Endpoint.make({ _tag: "Unix", path: socket })
        const hit = yield* runHit(["--name", "app", "--socket", socket])
        assert.equal(hit.answered, true)
        assert.deepEqual(JSON.parse(hit.out), {
          apiVersion: "client.authentication.k8s.io/v1",
          kind: "ExecCredential",
          status: { token: `${MARKER}-app`, expirationTimestamp: "2100-01-01T00:00:00Z" },
        })
        assert.deepEqual(yield* runHit(["--name", "waiting", "--socket", socket]), { answered: false, out: "" })
        assert.deepEqual(yield* runHit(["--name", "nope", "--socket", socket]), { answered: false, out: "" })
        // Flags the full command refuses with --name are left to it.
        assert.equal((yield* runHit(["--name", "app", "--socket", socket, "-n", "x"])).answered, false)
      }).pipe(Effect.scoped, Effect.provide(fake.layer), Effect.provide(platform), Effect.runPromise)
      const gone = await Effect.runPromise(runHit(["--name", "app", "--socket", socket]).pipe(Effect.provide(platform)))
      assert.deepEqual(gone, { answered: false, out: "" })
    }))
})
