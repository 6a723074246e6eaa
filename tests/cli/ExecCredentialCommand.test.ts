import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import process from "node:process"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Endpoint from "../../adapters/agent/Endpoint.ts"
import * as EndpointClient from "../../adapters/agent/EndpointClient.ts"
import * as Command from "../../adapters/cli/ExecCredentialCommand.ts"
import { requestFrom } from "../../adapters/cli/TokenFlags.ts"
import { execCredentialFlags, fakeAgent, status } from "../_support/agentFakes.ts"
import { tlsLayer } from "../_support/runtime.ts"
import { platform } from "../_support/platform.ts"
import { withTempDir } from "../_support/scratch.ts"

const MARKER = "MARKER-execcmd-93c2"

const flags = execCredentialFlags

const run = (f: Command.Flags) =>
  Effect.runPromise(
    Effect.either(Command.credential(f)).pipe(Effect.provide(tlsLayer), Effect.provide(platform)),
  )

describe("exec-credential flags", () => {
  it("parses Go durations with kubectl's messages", () => {
    const table: ReadonlyArray<readonly [string, number | string]> = [
      ["1h", 3600],
      ["90m", 5400],
      ["1h30m10s", 5410],
      ["0", 0],
      ["600s", 600],
      ["1.5h", 5400],
      ["-1h", "--duration must be greater than or equal to 0"],
      ["1500ms", "--duration cannot be expressed in units less than seconds"],
      ["1d", 'invalid argument "1d" for "--duration" flag: time: invalid duration "1d"'],
      ["", 'invalid argument "" for "--duration" flag: time: invalid duration ""'],
      ["h", 'invalid argument "h" for "--duration" flag: time: invalid duration "h"'],
    ]
    for (const [text, expected] of table) {
      const built = requestFrom(flags({ duration: Option.some(text) }))
      const spec = expected === 0 ? {} : { expirationSeconds: expected }
      assert.deepEqual(built, typeof expected === "number" ? { request: { spec } } : { error: expected }, text)
    }
  })

  it("builds the TokenRequest and refuses what kubectl create token refuses", () => {
    assert.deepEqual(
      requestFrom(flags({
        audience: ["a", "b"],
        duration: Option.some("1h"),
        boundObjectKind: Option.some("Pod"),
        boundObjectName: Option.some("p"),
        boundObjectUid: Option.some("u"),
      })),
      {
        request: {
          spec: {
            audiences: ["a", "b"],
            expirationSeconds: 3600,
            boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p", uid: "u" },
          },
        },
      },
    )
    assert.deepEqual(requestFrom(flags({ duration: Option.some("0") })), { request: { spec: {} } })
    const refused: ReadonlyArray<readonly [Partial<Command.Flags>, string]> = [
      [{ audience: [""] }, "--audience must not be an empty string"],
      [
        { boundObjectKind: Option.some("Deployment"), boundObjectName: Option.some("x") },
        "supported --bound-object-kind values are Node, Pod, Secret",
      ],
      [{ boundObjectKind: Option.some("Pod") }, "--bound-object-name is required if --bound-object-kind is provided"],
      [{ boundObjectName: Option.some("x") }, "--bound-object-name can only be set if --bound-object-kind is provided"],
      [{ boundObjectUid: Option.some("x") }, "--bound-object-uid can only be set if --bound-object-kind is provided"],
    ]
    for (const [fields, message] of refused) {
      assert.deepEqual(requestFrom(flags(fields)), { error: message })
    }
  })

  it("refuses contradictory or missing flags with a usage error", async () => {
    const cases: ReadonlyArray<readonly [Partial<Command.Flags>, RegExp]> = [
      [{}, /service account name is required/],
      [{ name: Option.some("a") }, /exactly one of --socket or --config/],
      [{ name: Option.some("a"), socket: Option.some("/s"), config: Option.some("/c") }, /exactly one of/],
      [{ name: Option.some("a"), serviceAccount: Option.some("sa"), socket: Option.some("/s") }, /cannot be combined/],
      [{ serviceAccount: Option.some("sa"), socket: Option.some("/s") }, /need --name/],
      [{ serviceAccount: Option.some("sa"), socketOwner: Option.some("0") }, /--socket-owner need --name/],
      [{ serviceAccount: Option.some("sa"), namespace: Option.some("") }, /--namespace is required/],
      [{ serviceAccount: Option.some("sa"), duration: Option.some("2s500ms") }, /units less than seconds/],
    ]
    for (const [fields, message] of cases) {
      const result = await run(flags(fields))
      assert.ok(Either.isLeft(result), String(message))
      assert.equal(result.left.reason, "Usage")
      assert.match(result.left.message, message)
    }
  })
})

describe("exec-credential --socket", () => {
  it("asks the agent over its socket and prints an ExecCredential; refusals name no token", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sa-execcmd-"))
    const socketPath = path.join(dir, "agent.sock")
    const expiresAt = new Date(Date.UTC(2100, 0, 1))
    const fake = fakeAgent([
      { status: status("app", { expiresAt }), token: `${MARKER}-app` },
      { status: status("waiting", { phase: "pending" }) },
    ])
    await Effect.runPromise(
      Effect.scoped(Effect.gen(function* () {
        yield* Endpoint.make({ _tag: "Unix", path: socketPath })
        yield* Effect.promise(async () => {
          const ok = await run(flags({ name: Option.some("app"), socket: Option.some(socketPath) }))
          assert.ok(Either.isRight(ok))
          assert.deepEqual(JSON.parse(ok.right), {
            apiVersion: "client.authentication.k8s.io/v1",
            kind: "ExecCredential",
            status: { token: `${MARKER}-app`, expirationTimestamp: "2100-01-01T00:00:00Z" },
          })
          for (const [name, pattern] of [["nope", /does not declare/], ["waiting", /no valid token/]] as const) {
            const refused = await run(flags({ name: Option.some(name), socket: Option.some(socketPath) }))
            assert.ok(Either.isLeft(refused))
            assert.match(refused.left.message, pattern)
            assert.ok(!refused.left.message.includes(MARKER))
          }
        })
      })).pipe(Effect.provide([fake.layer, platform])),
    )
    const gone = await run(flags({ name: Option.some("app"), socket: Option.some(socketPath) }))
    assert.ok(Either.isLeft(gone))
    assert.match(gone.left.message, /no agent is listening/)
    const unavailable = await Effect.runPromise(
      Effect.flip(EndpointClient.token({ _tag: "Unix", path: socketPath }, "app")).pipe(Effect.provide(platform)),
    )
    assert.equal(unavailable.reason, "Unavailable")
    fs.rmSync(dir, { recursive: true, force: true })
  })
})

// Another user's socket is made by giving it away, which only root can do.
const asRoot = process.getuid?.() === 0

describe("exec-credential --socket: whose socket it asks", { skip: !asRoot && "needs root to chown" }, () => {
  it("refuses a socket another user could have put there, and asks one of the --socket-owner", () =>
    withTempDir("sa-execcmd", async (dir) => {
      const socket = path.join(dir, "agent.sock")
      const fake = fakeAgent([{ status: status("app", { expiresAt: new Date(Date.UTC(2100, 0, 1)) }), token: MARKER }])
      // A user besides root whose name /etc/passwd gives, for --socket-owner NAME.
      const named = fs.readFileSync("/etc/passwd", "utf8").split("\n").map((line) => line.split(":"))
        .find((fields) => /^[1-9]\d*$/.test(fields[2] ?? ""))
      await Effect.gen(function* () {
        yield* Endpoint.make({ _tag: "Unix", path: socket })
        const ask = (fields: Partial<Command.Flags>) =>
          Effect.promise(() => run(flags({ name: Option.some("app"), socket: Option.some(socket), ...fields })))
        fs.chownSync(socket, 4242, 4242)
        const refused = yield* ask({})
        assert.ok(Either.isLeft(refused))
        assert.equal(
          refused.left.message,
          `failed to create token: cannot get token "app" from the agent at unix:${socket}: the socket belongs to ` +
            "uid 4242; only a socket of root, of this user (uid 0) or of --socket-owner is asked",
        )
        const owned = yield* ask({ socketOwner: Option.some("4242") })
        assert.ok(Either.isRight(owned), Either.isLeft(owned) ? owned.left.message : "")
        assert.equal(JSON.parse(owned.right).status.token, MARKER)
        const unknown = yield* ask({ socketOwner: Option.some("no-such-user-93c2") })
        assert.ok(Either.isLeft(unknown))
        assert.equal(unknown.left.message, 'error: --socket-owner: no user named "no-such-user-93c2" in /etc/passwd')
        if (named !== undefined) {
          fs.chownSync(socket, Number(named[2]), 0)
          const byName = yield* ask({ socketOwner: Option.some(named[0]!) })
          assert.ok(Either.isRight(byName), Either.isLeft(byName) ? byName.left.message : "")
        }
        fs.chownSync(socket, 0, 0)
        fs.chmodSync(dir, 0o777)
        const open = yield* ask({})
        assert.ok(Either.isLeft(open))
        assert.match(open.left.message, new RegExp(`${dir} is writable by every user \\(mode 0777\\)`))
        assert.ok(!open.left.message.includes(MARKER))
      }).pipe(Effect.scoped, Effect.provide([fake.layer, platform]), Effect.runPromise)
    }))
})
