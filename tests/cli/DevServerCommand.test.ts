/**
 * The `dev-server` flags: durations, the state file (YAML, validated, errors naming the field), audiences, listen
 * addresses; and the server's own option checks.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { after, describe, it } from "node:test"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { parseDuration, toOptions } from "../../adapters/cli/DevServerCommand.ts"
import type { DevServerFlags } from "../../adapters/cli/DevServerCommand.ts"
import * as DevServer from "../../adapters/devserver/mod.ts"
import { runTest } from "../_support/harness.ts"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "devserver-command-"))
after(() => fs.rmSync(dir, { recursive: true, force: true }))

const flags = (overrides: Partial<DevServerFlags> = {}): DevServerFlags => ({
  listen: "127.0.0.1:0",
  kubeconfigOut: Option.none(),
  state: Option.none(),
  issuer: Option.none(),
  apiAudiences: Option.none(),
  maxTokenExpiration: Option.none(),
  extendTokenExpiration: "true",
  minTokenExpiration: Option.none(),
  ...overrides,
})

const options = (f: DevServerFlags) => toOptions(f).pipe(Effect.provide(NodeFileSystem.layer))

describe("dev-server flags", () => {
  it("parses durations in Go's full syntax (the one parser of KubeWire) or as seconds", () =>
    runTest(Effect.gen(function* () {
      for (
        const [text, seconds] of [["1m", 60], ["10m", 600], ["1h30m", 5400], ["1.5h", 5400], ["3607", 3607], [
          "90s",
          90,
        ]] as const
      ) {
        assert.equal(yield* parseDuration("max-token-expiration", text), seconds)
      }
      const bad = yield* Effect.flip(parseDuration("max-token-expiration", "1.5x"))
      assert.equal(
        bad.message,
        'dev-server: invalid option: --max-token-expiration: expected a duration such as 10m, 1h or 3600s: "1.5x"',
      )
      const fraction = yield* Effect.flip(parseDuration("max-token-expiration", "1500ms"))
      assert.equal(
        fraction.message,
        'dev-server: invalid option: --max-token-expiration: must be a whole number of seconds: "1500ms"',
      )
    })))

  it("reads and validates a state file, and maps the other flags", () =>
    runTest(Effect.gen(function* () {
      const good = path.join(dir, "state.yaml")
      fs.writeFileSync(good, "serviceAccounts:\n  - { namespace: ci, name: runner, uid: u-1 }\n")
      const o = yield* options(flags({
        state: Option.some(good),
        apiAudiences: Option.some("api, vault"),
        maxTokenExpiration: Option.some("1m"),
        minTokenExpiration: Option.some("30s"),
        extendTokenExpiration: "false",
        issuer: Option.some("https://issuer.test"),
      }))
      assert.deepEqual(o, {
        listen: "127.0.0.1:0",
        extendTokenExpiration: false,
        state: { serviceAccounts: [{ namespace: "ci", name: "runner", uid: "u-1" }] },
        issuer: "https://issuer.test",
        apiAudiences: ["api", "vault"],
        maxTokenExpirationSeconds: 60,
        minTokenExpirationSeconds: 30,
      })
      const bad = path.join(dir, "bad.yaml")
      fs.writeFileSync(bad, "pods:\n  - { namespace: ci, name: p, serviceAccountName: '' }\n")
      const error = yield* Effect.flip(options(flags({ state: Option.some(bad) })))
      assert.equal(
        error.message,
        `dev-server: invalid state: ${bad}: pods.0.serviceAccountName: must be a non-empty string`,
      )
      const missing = yield* Effect.flip(options(flags({ state: Option.some(path.join(dir, "nope.yaml")) })))
      assert.equal(missing.reason, "State")
    })))

  it("rejects a bad listen address and negative lifetimes before starting", () =>
    runTest(Effect.gen(function* () {
      const listen = yield* Effect.flip(DevServer.start({ listen: "localhost" }))
      assert.equal(listen.message, 'dev-server: invalid option: --listen: expected HOST:PORT, got "localhost"')
      const max = yield* Effect.flip(DevServer.start({ maxTokenExpirationSeconds: -1 }))
      assert.equal(max.reason, "Options")
    })))

  it("writes the kubeconfig with mode 0600 and provides the server as a layer", () =>
    runTest(Effect.gen(function* () {
      const file = path.join(dir, "kubeconfig")
      fs.writeFileSync(file, "old", { mode: 0o644 })
      const server = yield* DevServer.DevServer.pipe(Effect.provide(DevServer.layer({ kubeconfigOut: file })))
      assert.equal(fs.statSync(file).mode & 0o777, 0o600)
      assert.equal(fs.readFileSync(file, "utf8"), server.kubeconfig)
      assert.match(server.kubeconfig, /namespace: default/)
    })))
})
