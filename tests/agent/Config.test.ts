import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Config from "../../adapters/agent/Config.ts"
import { platform } from "../_support/platform.ts"

const path: Path.Path = Effect.runSync(Path.Path.pipe(Effect.provide(Path.layer)))
const file = "/etc/agent/agent.yaml"

const decode = (document: unknown) => Config.decode(document, file, path)
const failure = (document: unknown): Config.ConfigError => {
  const result = decode(document)
  assert.ok(Either.isLeft(result), "expected the config to be refused")
  return result.left
}
const ok = (document: unknown): Config.AgentConfig => {
  const result = decode(document)
  if (Either.isLeft(result)) assert.fail(result.left.message)
  return result.right
}
const token = { name: "vault", namespace: "default", serviceAccount: "builder" }

describe("agent config", () => {
  it("applies defaults", () => {
    const config = ok({ tokens: [token] })
    assert.equal(config.budget.qps, 5)
    assert.equal(config.budget.burst, 10)
    assert.equal(config.log.format, "text")
    assert.equal(config.tokens[0]!.expirationSeconds, 3600)
    assert.equal(config.tokens[0]!.jitter, 0.1)
    assert.deepEqual(config.cluster, { kubeconfig: undefined, context: undefined, inCluster: false })
    assert.equal(config.endpoint, undefined)
    assert.equal(
      config.tokens[0]!.key,
      '"builder"/"default"/[]string(nil)/3600/v1.BoundObjectReference{Kind:"", APIVersion:"", Name:"", UID:""}/""',
    )
  })

  it("takes defaults from the defaults section and lets tokens override them", () => {
    const config = ok({
      defaults: { audiences: ["vault"], expirationSeconds: 1200, mode: "0640", jitter: 0.2 },
      tokens: [
        { ...token, file: { path: "tokens/vault" } },
        { ...token, name: "other", audiences: ["x"], expirationSeconds: 7200, file: { path: "/abs/t", mode: "600" } },
      ],
    })
    const [a, b] = config.tokens
    assert.deepEqual(a!.audiences, ["vault"])
    assert.equal(a!.expirationSeconds, 1200)
    assert.equal(a!.jitter, 0.2)
    assert.deepEqual(a!.file, { path: "/etc/agent/tokens/vault", mode: 0o640, owner: undefined, group: undefined })
    assert.deepEqual(b!.request.spec, { audiences: ["x"], expirationSeconds: 7200 })
    assert.equal(b!.file!.mode, 0o600)
    assert.equal(b!.file!.path, "/abs/t")
  })

  it("builds the bound object reference", () => {
    const config = ok({ tokens: [{ ...token, boundObject: { kind: "Pod", name: "p", uid: "u" } }] })
    assert.deepEqual(config.tokens[0]!.request.spec.boundObjectRef, {
      kind: "Pod",
      apiVersion: "v1",
      name: "p",
      uid: "u",
    })
  })

  it("refuses unknown keys with their path", () => {
    const error = failure({ tokens: [{ ...token, audience: ["x"] }], extra: 1 })
    assert.equal(error.reason, "Invalid")
    const paths = error.issues.map((i) => i.path)
    assert.ok(paths.includes("tokens[0].audience"), paths.join())
    assert.ok(paths.includes("extra"), paths.join())
    assert.match(error.message, /^invalid config \/etc\/agent\/agent\.yaml: /)
  })

  it("refuses a numeric mode and a non-octal mode", () => {
    const numeric = failure({ tokens: [{ ...token, file: { path: "t", mode: 384 } }] })
    assert.equal(numeric.issues[0]!.path, "tokens[0].file.mode")
    assert.match(numeric.issues[0]!.message, /string/)
    const octal = failure({ tokens: [{ ...token, file: { path: "t", mode: "0999" } }] })
    assert.equal(octal.issues[0]!.path, "tokens[0].file.mode")
  })

  it("refuses bad values with field paths", () => {
    const cases: Array<[unknown, string]> = [
      [{}, "tokens"],
      [{ tokens: [{ ...token, expirationSeconds: 60 }] }, "tokens[0].expirationSeconds"],
      [{ tokens: [{ ...token, namespace: 3 }] }, "tokens[0].namespace"],
      [{ tokens: [{ ...token, namespace: "Bad_NS" }] }, "tokens[0].namespace"],
      [{ tokens: [{ ...token, serviceAccount: "../admin" }] }, "tokens[0].serviceAccount"],
      [{ tokens: [{ ...token, boundObject: { kind: "Deployment", name: "x" } }] }, "tokens[0].boundObject.kind"],
      [{ tokens: [{ ...token, hooks: { command: [] } }] }, "tokens[0].hooks.command"],
      [
        { tokens: [{ ...token, hooks: { signal: { pidFile: "p", signal: "SIGFOO" } } }] },
        "tokens[0].hooks.signal.signal",
      ],
      [{ tokens: [token, token] }, "tokens[1].name"],
      [{ tokens: [{ ...token, name: "a/b" }] }, "tokens[0].name"],
      [{ tokens: [{ ...token, name: ".." }] }, "tokens[0].name"],
      [{ tokens: [{ ...token, name: "a\\b" }] }, "tokens[0].name"],
      [{ tokens: [{ ...token, file: { path: "../outside" } }] }, "tokens[0].file.path"],
      [{ tokens: [{ ...token, file: { path: "a/../../b" } }] }, "tokens[0].file.path"],
      [{ tokens: [token], budget: { qps: 0 } }, "budget.qps"],
      [{ tokens: [token], log: { format: "xml" } }, "log.format"],
      [{ tokens: [token], endpoint: { tcp: { address: "0.0.0.0:8080" } } }, "endpoint.tcp.address"],
      [{ tokens: [token], endpoint: { tcp: { address: "nonsense" } } }, "endpoint.tcp.address"],
      [{ tokens: [token], endpoint: { tcp: { address: "127.0.0.1:8181" } } }, "endpoint.tcp.bearerToken"],
      [
        { tokens: [token], endpoint: { tcp: { address: "127.0.0.1:8181", bearerToken: "" } } },
        "endpoint.tcp.bearerToken",
      ],
      [{ tokens: [token], endpoint: { unix: { path: "s" }, tcp: { address: "127.0.0.1:1" } } }, "endpoint"],
      [{ tokens: [token], cluster: { inCluster: true, context: "x" } }, "cluster.inCluster"],
    ]
    for (const [document, expected] of cases) {
      const error = failure(document)
      assert.ok(error.issues.some((i) => i.path === expected), `${expected}: ${error.message}`)
      assert.ok(error.message.includes(expected), error.message)
    }
  })

  it("reports the rules across fields together with the fields' own problems", () => {
    const error = failure({
      tokens: [{ ...token, file: { path: "../t" } }, { ...token, expirationSeconds: 60 }],
      cluster: { inCluster: true, kubeconfig: "k" },
      budget: { qps: 0 },
    })
    assert.deepEqual(error.issues.map((i) => i.path).sort(), [
      "budget.qps",
      "cluster.inCluster",
      "tokens[0].file.path",
      "tokens[1].expirationSeconds",
    ])
  })

  it("refuses two tokens writing the same file", () => {
    const error = failure({
      tokens: [{ ...token, file: { path: "t" } }, { ...token, name: "b", file: { path: "./t" } }],
    })
    assert.equal(error.issues[0]!.path, "tokens[1].file.path")
  })

  it("accepts loopback TCP, non-loopback only when allowed, and unix sockets with mode 0600 by default", () => {
    const tcp = ok({ tokens: [token], endpoint: { tcp: { address: "127.0.0.1:8181", bearerToken: "s3cret" } } })
    assert.equal(tcp.endpoint?._tag, "Tcp")
    if (tcp.endpoint?._tag === "Tcp") {
      assert.equal(tcp.endpoint.port, 8181)
      assert.equal(Redacted.value(tcp.endpoint.bearerToken!), "s3cret")
      assert.ok(!String(tcp.endpoint.bearerToken).includes("s3cret"))
    }
    const v6 = ok({ tokens: [token], endpoint: { tcp: { address: "[::1]:1", bearerToken: "s3cret" } } })
    assert.equal(v6.endpoint?._tag === "Tcp" && v6.endpoint.host, "::1")
    const open = ok({
      tokens: [token],
      endpoint: { tcp: { address: "0.0.0.0:80", allowNonLoopback: true, bearerToken: "s3cret" } },
    })
    assert.equal(open.endpoint?._tag, "Tcp")
    const unix = ok({ tokens: [token], endpoint: { unix: { path: "agent.sock" } } })
    assert.deepEqual(unix.endpoint, { _tag: "Unix", path: "/etc/agent/agent.sock", mode: 0o600 })
  })

  it("never repeats a value in an error message", () => {
    const error = failure({
      tokens: [token],
      endpoint: { tcp: { address: "127.0.0.1:1", bearerToken: 42, x: "MARKER" } },
    })
    assert.ok(!error.message.includes("MARKER"), error.message)
  })

  it("never repeats a value of any type at any field, and bounds every message (50 MB values, huge keys)", () => {
    const huge = `MARKER${"x".repeat(50 * 1024 * 1024)}`
    const at = (path: ReadonlyArray<string | number>, value: unknown): unknown => {
      const document: Record<string, unknown> = { tokens: [{ ...token }] }
      let node: Record<string | number, unknown> = document
      path.slice(0, -1).forEach((key, i) => {
        const next = path[i + 1]
        node[key] = node[key] ?? (typeof next === "number" ? [] : {})
        node = node[key] as Record<string | number, unknown>
        if (typeof next === "number") node[next] = node[next] ?? { ...token }
      })
      node[path.at(-1)!] = value
      return document
    }
    const fields: ReadonlyArray<ReadonlyArray<string | number>> = [
      ["log", "format"],
      ["log", "level"],
      ["log"],
      ["cluster", "inCluster"],
      ["cluster", "kubeconfig"],
      ["cluster"],
      ["endpoint", "tcp", "allowNonLoopback"],
      ["endpoint", "tcp", "bearerToken"],
      ["endpoint", "tcp", "address"],
      ["endpoint", "unix", "mode"],
      ["endpoint", "unix"],
      ["endpoint"],
      ["tokens", 0, "boundObject", "kind"],
      ["tokens", 0, "boundObject"],
      ["tokens", 0, "hooks", "signal", "signal"],
      ["tokens", 0, "hooks", "command"],
      ["tokens", 0, "file", "owner"],
      ["tokens", 0, "file", "mode"],
      ["tokens", 0, "expirationSeconds"],
      ["tokens", 0, "audiences"],
      ["tokens", 0, "name"],
      ["tokens", 0],
      ["tokens"],
      ["defaults", "jitter"],
      ["defaults", "mode"],
      ["budget", "qps"],
      ["budget", "maxInFlight"],
    ]
    const values: ReadonlyArray<unknown> = [huge, [huge], { k: huge }, [1, huge], { value: [huge] }, 1.5, true]
    for (const field of fields) {
      for (const value of values) {
        const result = decode(at(field, value))
        if (Either.isRight(result)) continue // a long string is a valid path or name
        const message = result.left.message
        assert.ok(message.length < 2000, `${field.join(".")}: ${message.length} characters`)
        assert.ok(!message.includes("MARKERx"), `${field.join(".")} repeats the value: ${message.slice(0, 300)}`)
      }
    }
    // keys are repeated (they name the field) but cut short, with control characters escaped
    const key = failure({ tokens: [token], [`\u001b[31m${huge}`]: 1 })
    assert.ok(key.message.length < 400, `${key.message.length} characters`)
    assert.ok(!key.message.includes("\u001b"))
    assert.match(key.message, /\\u001b\[31mMARKERx+…: is unexpected/)
    // thousands of problems: twenty are listed
    const many = failure({ tokens: Array.from({ length: 5000 }, () => ({ ...token, colour: "red" })) })
    assert.equal(many.issues.length, 5000)
    assert.match(many.message, /; and \d+ more$/)
    assert.ok(many.message.length < 20 * 300, `${many.message.length} characters`)
  })

  it("loads YAML and JSON files, and reports syntax errors and missing files", async () => {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "agent-config-"))
    try {
      fs.writeFileSync(
        nodePath.join(dir, "a.yaml"),
        'tokens:\n  - name: a\n    namespace: ns\n    serviceAccount: sa\n    file: { path: t/a, mode: "0600" }\n',
      )
      fs.writeFileSync(nodePath.join(dir, "a.json"), JSON.stringify({ tokens: [token] }))
      fs.writeFileSync(nodePath.join(dir, "bad.yaml"), "tokens: [ {name: a\n")
      const load = (name: string) =>
        Effect.runPromise(Config.load(nodePath.join(dir, name)).pipe(Effect.either, Effect.provide(platform)))
      const yaml = await load("a.yaml")
      assert.ok(Either.isRight(yaml))
      assert.equal(yaml.right.tokens[0]!.file!.path, nodePath.join(dir, "t/a"))
      assert.ok(Either.isRight(await load("a.json")))
      const bad = await load("bad.yaml")
      assert.ok(Either.isLeft(bad) && bad.left.reason === "Syntax", String(bad))
      const missing = await load("missing.yaml")
      assert.ok(Either.isLeft(missing) && missing.left.reason === "NotFound")
      assert.match(missing.left.message, /config file not found/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
