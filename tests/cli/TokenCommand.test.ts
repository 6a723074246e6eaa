/**
 * The `token` command: kubectl's flag validation and messages, and real runs against the development API server
 * (in-process) under whichever runtime runs the file.
 * `tokenCommand.runtimes.test.ts` runs the three CLIs and kubectl.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, it } from "node:test"
import * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Terminal from "@effect/platform/Terminal"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as DevServer from "../../adapters/devserver/mod.ts"
import * as TokenCommand from "../../adapters/cli/TokenCommand.ts"
import type { TokenFlags } from "../../adapters/cli/TokenFlags.ts"
import { validate } from "../../adapters/cli/TokenFlags.ts"
import * as NodeProcessControl from "../../adapters/platform/NodeProcessControl.ts"
import { tlsLayer } from "../_support/runtime.ts"
import { suiteServer } from "../_support/devserver.ts"

const none = Option.none<string>()
const flags = (f: Partial<TokenFlags> = {}): TokenFlags => ({
  serviceAccount: Option.some("default"),
  namespace: none,
  audience: [],
  duration: none,
  boundObjectKind: none,
  boundObjectName: none,
  boundObjectUid: none,
  kubeconfig: none,
  context: none,
  output: "token",
  ...f,
})
const some = Option.some<string>

describe("token flags", () => {
  it("validates like kubectl create token, with its messages", () => {
    const cases: ReadonlyArray<readonly [Partial<TokenFlags>, string]> = [
      [{ serviceAccount: none }, "service account name is required"],
      [{ duration: some("-1h") }, "--duration must be greater than or equal to 0"],
      [{ duration: some("1500ms") }, "--duration cannot be expressed in units less than seconds"],
      [{ duration: some("soon") }, 'invalid argument "soon" for "--duration" flag: time: invalid duration "soon"'],
      [{ audience: ["a", ""] }, "--audience must not be an empty string"],
      [{ boundObjectName: some("p") }, "--bound-object-name can only be set if --bound-object-kind is provided"],
      [{ boundObjectUid: some("u") }, "--bound-object-uid can only be set if --bound-object-kind is provided"],
      [{ boundObjectKind: some("ConfigMap") }, "supported --bound-object-kind values are Node, Pod, Secret"],
      [{ boundObjectKind: some("Pod") }, "--bound-object-name is required if --bound-object-kind is provided"],
      [
        { output: "yaml" },
        'unable to match a printer suitable for the output format "yaml", allowed formats are: token,json,exec-credential',
      ],
    ]
    for (const [f, message] of cases) assert.deepEqual(validate(flags(f)), { error: message })
  })

  it("builds the TokenRequest: whole seconds, zero omitted, audiences, bound object with apiVersion v1", () => {
    assert.deepEqual(validate(flags({ duration: some("0") })), {
      name: "default",
      output: "token",
      request: { spec: {} },
    })
    assert.deepEqual(
      validate(
        flags({
          audience: ["a", "b"],
          duration: some("1h30m"),
          boundObjectKind: some("Pod"),
          boundObjectName: some("p"),
          boundObjectUid: some("u"),
          output: "json",
        }),
      ),
      {
        name: "default",
        output: "json",
        request: {
          spec: {
            audiences: ["a", "b"],
            expirationSeconds: 5400,
            boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p", uid: "u" },
          },
        },
      },
    )
  })
})

describe("token against the development API server", () => {
  const fixture = suiteServer("token-cmd-")

  const platform = Layer.mergeAll(NodeContext.layer, tlsLayer, NodeProcessControl.layer)
  const execute = (f: Partial<TokenFlags>) =>
    Effect.runPromise(
      TokenCommand.execute(flags({ kubeconfig: some(fixture.kubeconfig), ...f })).pipe(
        Effect.either,
        Effect.provide(platform),
      ),
    )
  const payload = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8"))

  it("prints the bare token by default (namespace from the context)", async () => {
    const result = await execute({ audience: ["vault"], duration: some("1h") })
    assert.equal(result._tag, "Right")
    const token = result._tag === "Right" ? result.right : ""
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/)
    const claims = payload(token)
    assert.equal(claims.sub, "system:serviceaccount:default:default")
    assert.deepEqual(claims.aud, ["vault"])
    assert.equal(claims.exp - claims.iat, 3600)
  })

  it("prints the TokenRequest as JSON and a v1 ExecCredential", async () => {
    const json = await execute({ output: "json", boundObjectKind: some("Pod"), boundObjectName: some("demo") })
    assert.equal(json._tag, "Right")
    const body = JSON.parse(json._tag === "Right" ? json.right : "{}")
    assert.equal(body.kind, "TokenRequest")
    assert.equal(body.spec.boundObjectRef.name, "demo")
    assert.match(body.status.token, /^eyJ/)
    assert.match(body.status.expirationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    const exec = await execute({ output: "exec-credential" })
    const credential = JSON.parse(exec._tag === "Right" ? exec.right : "{}")
    assert.equal(credential.apiVersion, "client.authentication.k8s.io/v1")
    assert.equal(credential.kind, "ExecCredential")
    assert.match(credential.status.token, /^eyJ/)
    assert.match(credential.status.expirationTimestamp, /Z$/)
  })

  it("fails with kubectl's messages and never a token", async () => {
    const missing = await execute({ serviceAccount: some("nosuch"), namespace: some("default") })
    assert.equal(
      missing._tag === "Left" && missing.left.message,
      'failed to create token: serviceaccounts "nosuch" not found',
    )
    const context = await execute({ context: some("nope") })
    assert.match(String(context._tag === "Left" && context.left.message), /context "nope" not found/)
    const usage = await execute({ duration: some("-5s") })
    assert.equal(usage._tag === "Left" && usage.left.reason, "Usage")
  })

  it("leaves the lifetime's lower bound to the server, as kubectl does", async () => {
    const short = await execute({ duration: some("100s") })
    assert.equal(
      short._tag === "Left" && short.left.message,
      'failed to create token: TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 100: may not specify a duration less than 10 minutes',
    )
    // a server configured with a lower minimum issues it
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "token-cmd-min-"))
    try {
      const kubeconfig = path.join(dir, "kubeconfig")
      const result = await Effect.runPromise(
        Effect.scoped(
          DevServer.start({ minTokenExpirationSeconds: 60, kubeconfigOut: kubeconfig }).pipe(
            Effect.zipRight(
              TokenCommand.execute(flags({ kubeconfig: some(kubeconfig), duration: some("100s") })).pipe(Effect.either),
            ),
          ),
        ).pipe(Effect.provide(platform)),
      )
      assert.equal(result._tag, "Right")
      const claims = payload(result._tag === "Right" ? result.right : "")
      assert.equal(claims.exp - claims.iat, 100)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("parses the command line (-n, repeated --audience, -o) and writes to the terminal", async () => {
    const shown: Array<string> = []
    const errors: Array<string> = []
    const terminalWith = (tty: boolean) =>
      Layer.succeed(Terminal.Terminal, {
        columns: Effect.succeed(80),
        rows: Effect.succeed(24),
        isTTY: Effect.succeed(tty),
        readInput: Effect.die("no input"),
        readLine: Effect.die("no input"),
        display: (text: string) => Effect.sync(() => void shown.push(text)),
      } as Terminal.Terminal)
    const terminal = terminalWith(false)
    const run = Command.run(TokenCommand.command, { name: "token", version: "0" })
    const argv = [
      "node",
      "token",
      "default",
      "-n",
      "default",
      "--audience",
      "a",
      "--audience",
      "b",
      "-o",
      "exec-credential",
      "--kubeconfig",
      fixture.kubeconfig,
    ]
    await Effect.runPromise(run(argv).pipe(Effect.provide(Layer.merge(platform, terminal))))
    const credential = JSON.parse(shown.join(""))
    // Like kubectl, the bare token ends with a newline only on a terminal.
    for (const tty of [false, true]) {
      shown.length = 0
      await Effect.runPromise(
        run(["node", "token", "default", "--kubeconfig", fixture.kubeconfig]).pipe(
          Effect.provide(Layer.merge(platform, terminalWith(tty))),
        ),
      )
      assert.match(shown.join(""), tty ? /^eyJ[\w.-]+\n$/ : /^eyJ[\w.-]+$/)
    }
    assert.deepEqual(payload(credential.status.token).aud, ["a", "b"])
    const original = globalThis.console.error
    globalThis.console.error = (...args: Array<unknown>) => void errors.push(args.join(" "))
    const failed = await Effect.runPromise(
      run(["node", "token", "ghost", "-n", "default", "--kubeconfig", fixture.kubeconfig]).pipe(
        Effect.provide(Layer.merge(platform, terminal)),
        Effect.exit,
      ),
    ).finally(() => {
      globalThis.console.error = original
    })
    assert.equal(failed._tag, "Failure")
    assert.deepEqual(errors, ['error: failed to create token: serviceaccounts "ghost" not found'])
  })
})
