import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Micro from "effect/Micro"
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
import { leanHost } from "../../adapters/node/NodeLeanHost.ts"
import { LeanHost } from "../../adapters/platform/LeanHost.ts"
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

/** Node's host with some calls replaced: a fixed `now`, another working directory, environment or user. */
const hostWith = (overrides: Partial<LeanHost> = {}): LeanHost => ({ ...leanHost, ...overrides })

/** Runs the lean path for `exec-credential ARGS` on `host` and returns whether it answered and what it printed. */
const runHit = async (args: ReadonlyArray<string>, host: LeanHost = leanHost) => {
  const flags = parse(args)
  assert.ok(flags !== undefined, args.join(" "))
  const found = Option.isSome(flags.name) ? SocketHit.fromSocket(flags) : CacheHit.fromCache(flags)
  const log = globalThis.console.log
  let out = ""
  globalThis.console.log = (...parts: Array<unknown>) => {
    out += `${parts.join(" ")}\n`
  }
  try {
    const answered = await Micro.runPromise(answer(found).pipe(Micro.provideService(LeanHost, host)))
    return { answered, out }
  } finally {
    globalThis.console.log = log
  }
}

const nothing = { answered: false, out: "" }

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

/** When the full command fetched in these tests. */
const T0 = Date.UTC(2030, 0, 1)
const second = 1000
const minute = 60 * second

/**
 * The full command's side: its cache (the real store and manager) at a fixed time, with a counting fetcher that
 * answers as an API server does (an hour's token, `spec.expirationSeconds` filled in), or, with `lifetimeInSpec`
 * false, an hour's token whose spec has no lifetime (the manager then never refreshes it, and logs that it is odd).
 */
const fullCommand = (cache: string, { lifetimeInSpec = true } = {}) => {
  let fetches = 0
  const fetcher = TokenFetcher.make((_namespace, _name, request) =>
    Effect.map(Effect.clockWith((clock) => clock.currentTimeMillis), (now) => {
      fetches++
      const spec = lifetimeInSpec ? { ...request.spec, expirationSeconds: request.spec.expirationSeconds ?? 3600 } : {}
      return {
        ...request,
        spec,
        status: { token: Redacted.make(`${MARKER}-${fetches}`), expirationTimestamp: new Date(now + 3600_000) },
      }
    })
  )
  const at = <A, E>(now: number, effect: Effect.Effect<A, E, Platform | TokenFetcher.TokenFetcher>): Promise<A> =>
    Effect.zipRight(TestClock.setTime(now), effect).pipe(
      lifetimeInSpec ? identity : Logger.withMinimumLogLevel(LogLevel.None),
      Effect.provideService(TokenFetcher.TokenFetcher, fetcher),
      Effect.provide(platform),
      Effect.provide(TestContext.TestContext),
      Effect.runPromise,
    )
  return {
    fetches: (): number => fetches,
    /** The cluster identity and namespace the full command reads from the kubeconfig files. */
    describe: (connection: { readonly kubeconfig?: string; readonly context?: string }) =>
      at(T0, Effect.map(KubeconfigContext.describe(connection), Option.getOrThrow)),
    /** The ExecCredential the full command prints at `now` for the `builder` token of `namespace`. */
    get: (now: number, cluster: string, namespace: string, request: TokenRequest = { spec: {} }) =>
      at(
        now,
        Effect.map(
          ExecCredential.get(namespace, "builder", request, { directory: cache, cluster }),
          (response) => `${ExecCredential.render(response)}\n`,
        ),
      ),
    /** What the full command remembers, run without `--namespace`. */
    remember: (cluster: string, namespace: string) =>
      at(T0, ExecCredential.rememberNamespace({ directory: cache, cluster }, namespace)),
    /** The entry file of a request key, as the full command names it. */
    file: (cluster: string, key: string) => at(T0, ExecCredential.file({ directory: cache, cluster }, key)),
  }
}

/** A kubeconfig and a cache directory in `dir`, and the full command's side over them. */
const setUp = async (dir: string) => {
  const kubeconfig = path.join(dir, "kubeconfig")
  fs.writeFileSync(kubeconfig, kubeconfigText)
  const cache = path.join(dir, "cache")
  const full = fullCommand(cache)
  const described = await full.describe({ kubeconfig })
  assert.equal(described.namespace, "apps")
  return { kubeconfig, cache, full, cluster: described.identity }
}

describe("exec-credential lean path: the on-disk cache", () => {
  it("prints what the full command prints for an entry its manager serves, with and without --namespace", () =>
    withTempDir("sa-exechit", async (dir) => {
      const { kubeconfig, cache, full, cluster } = await setUp(dir)
      const args = ["builder", "--kubeconfig", kubeconfig, "--cache-dir", cache, "--duration", "1h"]
      const request = { spec: { expirationSeconds: 3600 } }
      const later = hostWith({ now: () => T0 + 10 * minute })
      // An empty cache: nothing printed.
      assert.deepEqual(await runHit(args, later), nothing)
      await full.get(T0, cluster, "apps", request)
      assert.equal(full.fetches(), 1)
      const printed = await full.get(T0 + 10 * minute, cluster, "apps", request)
      assert.equal(full.fetches(), 1)
      // With --namespace the kubeconfig is only hashed; without it, the namespace the full command remembered for
      // this kubeconfig is needed (the lean path parses nothing).
      assert.deepEqual(await runHit([...args, "-n", "apps"], later), { answered: true, out: printed })
      assert.deepEqual(await runHit(args, later), nothing)
      await full.remember(cluster, "apps")
      assert.deepEqual(await runHit(args, later), { answered: true, out: printed })
      // The bin's entry point answers the same, on the host it is given.
      const log = globalThis.console.log
      let out = ""
      globalThis.console.log = (text: string) => void (out += `${text}\n`)
      try {
        assert.equal(await CacheHit.run(args, later), true)
      } finally {
        globalThis.console.log = log
      }
      assert.equal(out, printed)
      assert.equal(JSON.parse(out).status.token, `${MARKER}-1`)
      // Another request (namespace, audience, lifetime) or another context is another entry.
      assert.deepEqual(await runHit([...args, "-n", "other"], later), nothing)
      assert.deepEqual(await runHit([...args, "--audience", "vault"], later), nothing)
      assert.deepEqual(await runHit([...args, "--duration", "2h"].filter((_, i) => i !== 5 && i !== 6), later), nothing)
      assert.deepEqual(await runHit([...args, "--context", "missing"], later), nothing)
      // Flags of the agent paths, and requests the full command refuses, are not this path's.
      assert.deepEqual(await runHit([...args, "--config", "/etc/agent.yaml"], later), nothing)
      assert.deepEqual(await runHit([...args, "--bound-object-name", "p"], later), nothing)
      // An edited kubeconfig is another identity.
      fs.appendFileSync(kubeconfig, "# edited\n")
      assert.deepEqual(await runHit(args, later), nothing)
      fs.writeFileSync(kubeconfig, kubeconfigText)
      assert.equal((await runHit(args, later)).answered, true)
      // No kubeconfig at all: nothing to key the entry with.
      fs.rmSync(kubeconfig)
      assert.deepEqual(await runHit(args, later), nothing)
    }))

  it("serves only when the manager would serve under every jitter it may draw, and never an expired token", () =>
    withTempDir("sa-exechit", async (dir) => {
      const { kubeconfig, cache, full, cluster } = await setUp(dir)
      const args = ["builder", "-n", "apps", "--kubeconfig", kubeconfig, "--cache-dir", cache]
      const at = (now: number) => hostWith({ now: () => now })
      // An hour's token refreshes 80 % into its life, 0 to 9 s earlier by the manager's jitter.
      await full.get(T0, cluster, "apps", { spec: { expirationSeconds: 3600 } })
      const ruled = [...args, "--duration", "3600s"]
      const refreshAt = T0 + 48 * minute
      assert.equal((await runHit(ruled, at(T0 + 10 * minute))).answered, true)
      assert.equal((await runHit(ruled, at(refreshAt - 9 * second))).answered, true)
      // 1 ms later, a manager that draws 9 s refreshes: the lean path leaves it to the full command.
      assert.deepEqual(await runHit(ruled, at(refreshAt - 9 * second + 1)), nothing)
      // 1 s before the refresh point, any jitter from 1 s up makes the manager fetch.
      assert.deepEqual(await runHit(ruled, at(refreshAt - second)), nothing)
      assert.deepEqual(await runHit(ruled, at(refreshAt + second)), nothing)
      // Which the full command does, whatever it draws.
      assert.equal(full.fetches(), 1)
      await full.get(refreshAt + second, cluster, "apps", { spec: { expirationSeconds: 3600 } })
      assert.equal(full.fetches(), 2)
      // A token without a lifetime in its spec is never refreshed, but is not served once expired.
      await fullCommand(cache, { lifetimeInSpec: false }).get(T0, cluster, "apps")
      assert.equal((await runHit(args, at(T0 + 59 * minute))).answered, true)
      assert.equal((await runHit(args, at(T0 + 60 * minute))).answered, true)
      assert.deepEqual(await runHit(args, at(T0 + 60 * minute + 1)), nothing)
      // A token issued in the future (the clock leapt backwards) is refreshed by the manager: not served.
      assert.deepEqual(await runHit(ruled, at(T0 - minute)), nothing)
    }))

  it("reads nothing from a corrupt entry, nor from an entry of another request or cluster under a valid name", () =>
    withTempDir("sa-exechit", async (dir) => {
      const { kubeconfig, cache, full, cluster } = await setUp(dir)
      const args = ["builder", "--kubeconfig", kubeconfig, "--cache-dir", cache]
      const later = hostWith({ now: () => T0 + minute })
      await full.get(T0, cluster, "apps")
      await full.get(T0, cluster, "apps", { spec: { audiences: ["vault"] } })
      await full.remember(cluster, "apps")
      assert.equal((await runHit(args, later)).answered, true)
      const plain = await full.file(
        cluster,
        '"builder"/"apps"/[]string(nil)/0/v1.BoundObjectReference{Kind:"", APIVersion:"", Name:"", UID:""}/""',
      )
      const vault = await full.file(
        cluster,
        '"builder"/"apps"/[]string{"vault"}/0/v1.BoundObjectReference{Kind:"", APIVersion:"", Name:"", UID:""}/""',
      )
      assert.ok(fs.existsSync(plain) && fs.existsSync(vault))
      const original = fs.readFileSync(plain, "utf8")
      const rewrite = (text: string) => fs.writeFileSync(plain, text, { mode: 0o600 })
      // The entry of another request copied under this request's name.
      rewrite(fs.readFileSync(vault, "utf8"))
      assert.deepEqual(await runHit(args, later), nothing)
      // This request's entry, claiming another cluster.
      rewrite(original.replace(cluster, "kubeconfig 00"))
      assert.deepEqual(await runHit(args, later), nothing)
      // Corrupt: cut short, not JSON, another version, a field of the wrong type, a bad timestamp.
      for (
        const text of [
          original.slice(0, original.length / 2),
          "not json",
          original.replace('"version":1', '"version":2'),
          original.replace(/"token":"[^"]*"/, '"token":42'),
          original.replace(/"expirationTimestamp":"[^"]*"/, '"expirationTimestamp":"tomorrow"'),
          original.replace(/"token":"[^"]*"/, '"token":""'),
        ]
      ) {
        rewrite(text)
        assert.deepEqual(await runHit(args, later), nothing, text)
      }
      rewrite(original)
      assert.equal((await runHit(args, later)).answered, true)
      // A corrupt remembered namespace, or one of another cluster: the namespace is unknown.
      const remembered = fs.readdirSync(cache).find((name) => name.endsWith(".ns.json"))!
      const rememberedText = fs.readFileSync(path.join(cache, remembered), "utf8")
      fs.writeFileSync(path.join(cache, remembered), rememberedText.replace(cluster, "kubeconfig 00"))
      assert.deepEqual(await runHit(args, later), nothing)
      fs.writeFileSync(path.join(cache, remembered), "{")
      assert.deepEqual(await runHit(args, later), nothing)
      assert.equal((await runHit([...args, "-n", "apps"], later)).answered, true)
    }))

  it("ignores an entry another user could have written or read, silently (the full command says why)", () =>
    withTempDir("sa-exechit", async (dir) => {
      const { kubeconfig, cache, full, cluster } = await setUp(dir)
      const args = ["builder", "-n", "apps", "--kubeconfig", kubeconfig, "--cache-dir", cache]
      const later = hostWith({ now: () => T0 + minute })
      await full.get(T0, cluster, "apps")
      const entry = path.join(cache, fs.readdirSync(cache).find((name) => name.endsWith(".json"))!)
      assert.equal((await runHit(args, later)).answered, true)
      const errors: Array<unknown> = []
      const error = globalThis.console.error
      globalThis.console.error = (...parts: Array<unknown>) => void errors.push(...parts)
      try {
        // A directory others can write, a file others can read, files of another user, a symlink to the entry.
        fs.chmodSync(cache, 0o777)
        assert.deepEqual(await runHit(args, later), nothing)
        fs.chmodSync(cache, 0o700)
        fs.chmodSync(entry, 0o640)
        assert.deepEqual(await runHit(args, later), nothing)
        fs.chmodSync(entry, 0o600)
        assert.deepEqual(
          await runHit(args, hostWith({ now: () => T0 + minute, uid: () => leanHost.uid() + 4242 })),
          nothing,
        )
        const moved = path.join(dir, "moved.json")
        fs.renameSync(entry, moved)
        fs.symlinkSync(moved, entry)
        assert.deepEqual(await runHit(args, later), nothing)
        fs.rmSync(entry)
        fs.renameSync(moved, entry)
        assert.equal((await runHit(args, later)).answered, true)
        // A host call that fails is a miss too.
        const failing = hostWith({ now: () => T0 + minute, stat: () => Promise.reject(new Error("EACCES")) })
        assert.deepEqual(await runHit(args, failing), nothing)
      } finally {
        globalThis.console.error = error
      }
      assert.deepEqual(errors, [])
    }))

  it("finds the entry the full command wrote for a symlinked kubeconfig, a KUBECONFIG list and relative paths", () =>
    withTempDir("sa-exechit", async (dir) => {
      const real = path.join(dir, "real.yaml")
      fs.writeFileSync(real, kubeconfigText)
      const link = path.join(dir, "config")
      fs.symlinkSync(real, link)
      const extra = path.join(dir, "extra.yaml")
      fs.writeFileSync(extra, "apiVersion: v1\nkind: Config\n")
      const cache = path.join(dir, "cache")
      const full = fullCommand(cache)
      const list = `${link}::${path.join(dir, "missing.yaml")}:${extra}`
      const later = { now: () => T0 + minute }
      const saved = process.env.KUBECONFIG
      try {
        // The full command's connection and KUBECONFIG (absolute), the lean path's flags and host.
        const cases = [
          [{ kubeconfig: link }, list, ["--kubeconfig", link, "--cache-dir", cache], later],
          [{ kubeconfig: link }, list, ["--kubeconfig", "./x/../config", "--cache-dir", "cache/"], {
            ...later,
            cwd: () => dir,
          }],
          [{}, list, ["--cache-dir", cache], {
            ...later,
            env: (name: string) => name === "KUBECONFIG" ? list : undefined,
          }],
          [{}, `${link}:${extra}`, ["--cache-dir", "../cache"], {
            ...later,
            cwd: () => path.join(dir, "sub"),
            env: (name: string) => name === "KUBECONFIG" ? "../config:.//../extra.yaml" : undefined,
          }],
        ] as const
        for (const [connection, kubeconfigs, flags, overrides] of cases) {
          // What the full command reads through the file system, and remembers.
          process.env.KUBECONFIG = kubeconfigs
          const described = await full.describe(connection)
          await full.get(T0, described.identity, described.namespace)
          await full.remember(described.identity, described.namespace)
          // The lean path reads the same bytes through the host, symlinks followed, paths resolved from its cwd.
          const hit = await runHit(["builder", ...flags], hostWith(overrides))
          assert.equal(hit.answered, true, flags.join(" "))
          fs.rmSync(cache, { recursive: true })
        }
      } finally {
        if (saved === undefined) delete process.env.KUBECONFIG
        else process.env.KUBECONFIG = saved
      }
    }))

  it("uses the full command's default cache directory: XDG_CACHE_HOME when absolute, else HOME", () =>
    withTempDir("sa-exechit", async (dir) => {
      const kubeconfig = path.join(dir, "kubeconfig")
      fs.writeFileSync(kubeconfig, kubeconfigText)
      const args = ["builder", "-n", "apps", "--kubeconfig", kubeconfig]
      const home = path.join(dir, "home")
      const xdg = path.join(dir, "xdg")
      for (
        const [env, directory] of [
          [{ XDG_CACHE_HOME: xdg, HOME: home }, path.join(xdg, "sa-token")],
          [{ XDG_CACHE_HOME: "relative", HOME: home }, path.join(home, ".cache", "sa-token")],
          [{ XDG_CACHE_HOME: "", HOME: `${home}/` }, path.join(home, ".cache", "sa-token")],
        ] as const
      ) {
        assert.equal(ExecCredential.defaultDirectory(env, path.posix), directory)
        const full = fullCommand(directory)
        const described = await full.describe({ kubeconfig })
        await full.get(T0, described.identity, "apps")
        const host = hostWith({ now: () => T0 + minute, env: (name) => (env as Record<string, string>)[name] })
        assert.equal((await runHit(args, host)).answered, true, JSON.stringify(env))
        fs.rmSync(directory, { recursive: true })
        assert.deepEqual(await runHit(args, host), nothing)
      }
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
        const hit = yield* Effect.promise(() => runHit(["--name", "app", "--socket", socket]))
        assert.equal(hit.answered, true)
        assert.deepEqual(JSON.parse(hit.out), {
          apiVersion: "client.authentication.k8s.io/v1",
          kind: "ExecCredential",
          status: { token: `${MARKER}-app`, expirationTimestamp: "2100-01-01T00:00:00Z" },
        })
        assert.deepEqual(yield* Effect.promise(() => runHit(["--name", "waiting", "--socket", socket])), nothing)
        assert.deepEqual(yield* Effect.promise(() => runHit(["--name", "nope", "--socket", socket])), nothing)
        // Flags the full command refuses with --name are left to it.
        const refused = yield* Effect.promise(() => runHit(["--name", "app", "--socket", socket, "-n", "x"]))
        assert.deepEqual(refused, nothing)
        // The bin's entry point answers on the host it is given.
        const log = globalThis.console.log
        globalThis.console.log = () => {}
        const ran = yield* Effect.promise(() => SocketHit.run(["--name", "app", "--socket", socket], leanHost)).pipe(
          Effect.ensuring(Effect.sync(() => (globalThis.console.log = log))),
        )
        assert.equal(ran, true)
      }).pipe(Effect.scoped, Effect.provide(fake.layer), Effect.provide(platform), Effect.runPromise)
      assert.deepEqual(await runHit(["--name", "app", "--socket", socket]), nothing)
    }))
})

describe("exec-credential lean path: whose socket it asks", () => {
  it("asks only a socket of root, this user or --socket-owner, in directories nobody else can write", () =>
    withTempDir("sa-exechit", async (dir) => {
      const socket = path.join(dir, "agent.sock")
      const fake = fakeAgent([{ status: status("app", { expiresAt: new Date(Date.UTC(2100, 0, 1)) }), token: MARKER }])
      // The socket as another user's (uid 4242, "sa-agent" in the /etc/passwd given), without needing root to chown.
      const passwd = new TextEncoder().encode("root:x:0:0::/root:/bin/sh\nsa-agent:x:4242:4242::/:/bin/false\n")
      const foreign = hostWith({
        stat: async (file) => {
          const info = await leanHost.stat(file)
          return file === socket && info !== undefined ? { ...info, uid: 4242 } : info
        },
        readFile: (file, maxBytes) =>
          file === "/etc/passwd"
            ? Promise.resolve({ data: passwd, info: { uid: 0, gid: 0, mode: 0o644 } })
            : leanHost.readFile(file, maxBytes),
      })
      const args = ["--name", "app", "--socket", socket]
      await Effect.gen(function* () {
        yield* Endpoint.make({ _tag: "Unix", path: socket })
        const hit = (words: ReadonlyArray<string>, host?: LeanHost) =>
          Effect.promise(() => runHit(words, host)).pipe(Effect.map((result) => result.answered))
        assert.equal(yield* hit(args), true)
        assert.equal(yield* hit(args, foreign), false, "another user's socket")
        assert.equal(yield* hit([...args, "--socket-owner", "4242"], foreign), true)
        assert.equal(yield* hit([...args, "--socket-owner", "sa-agent"], foreign), true)
        assert.equal(yield* hit([...args, "--socket-owner", "4243"], foreign), false)
        assert.equal(yield* hit([...args, "--socket-owner", "nobody-here"], foreign), false)
        // A path through a symlink is left to the full command, which follows each link.
        const link = path.join(dir, "link.sock")
        fs.symlinkSync(socket, link)
        assert.equal(yield* hit(["--name", "app", "--socket", link]), false)
        fs.symlinkSync(dir, path.join(dir, "here"))
        assert.equal(yield* hit(["--name", "app", "--socket", path.join(dir, "here", "agent.sock")]), false)
        // Directories: writable by every user, by a group, and sticky.
        for (const [mode, answered] of [[0o777, false], [0o770, false], [0o1777, true], [0o755, true]] as const) {
          fs.chmodSync(dir, mode)
          assert.equal(yield* hit(args), answered, mode.toString(8))
        }
        const above = path.dirname(dir)
        const aboveInfo = yield* Effect.promise(() => leanHost.stat(above))
        const openAbove = hostWith({
          stat: (file) =>
            file === above && aboveInfo !== undefined
              ? Promise.resolve({ ...aboveInfo, mode: 0o777 })
              : leanHost.stat(file),
        })
        assert.equal(yield* hit(args, openAbove), false, "a directory above, writable by every user")
        // A directory it may not examine (as under Deno's least-privilege flags) is skipped, as the full command skips
        // it; the socket itself must be examined.
        const refusing = (refused: string) =>
          hostWith({
            stat: (file) =>
              file === refused
                ? Promise.reject(new Error(`NotCapable: Requires read access to "${file}"`))
                : openAbove.stat(file),
          })
        assert.equal(yield* hit(args, refusing(above)), true, "a directory above it may not examine")
        assert.equal(yield* hit(args, refusing(socket)), false, "a socket it may not examine")
      }).pipe(Effect.scoped, Effect.provide(fake.layer), Effect.provide(platform), Effect.runPromise)
    }))
})

describe("exec-credential lean path: a host call that throws", () => {
  it("gives up, for the full command to report, rather than end the process", async () => {
    const refused = () => {
      throw new Error("NotCapable: Requires sys access")
    }
    assert.equal(
      await SocketHit.run(["--name", "app", "--socket", "/nonexistent/agent.sock"], hostWith({ uid: refused })),
      false,
    )
    assert.equal(
      await CacheHit.run(["default", "--kubeconfig", "/nonexistent/config"], hostWith({ env: refused })),
      false,
    )
  })
})
