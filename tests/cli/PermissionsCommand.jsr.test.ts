/**
 * The `./cli` export as JSR serves it: run with `deno run` and installed with `deno install -g`, under exactly the flags
 * `sa-token permissions` prints, against the development API server (in this process). Runs under Node only (it spawns
 * Deno itself).
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import process from "node:process"
import { describe, it } from "node:test"
import * as Option from "effect/Option"
import { runtime } from "../_support/runtime.ts"
import { suiteServer } from "../_support/devserver.ts"
import { root } from "../_support/agentProcess.ts"
import { deno, flagsFor, runDeno, runWith } from "../_support/permissions.ts"

describe("the CLI as JSR serves it", { skip: runtime !== "node" }, () => {
  const fixture = suiteServer("perm-jsr-")

  /**
   * The package as JSR serves it, in a local directory: the files `deno publish` would upload, with each bare specifier
   * rewritten as publishing rewrites it (its debug log names each one), and no configuration: Deno applies none of a
   * remote package's, and fetches its npm dependencies into its own cache.
   */
  let mirrored: Promise<{ readonly mirror: string; readonly entry: string }> | undefined
  const jsrMirror = () =>
    mirrored ??= (async () => {
      // Only the file list and the unfurled specifiers are read here; `--no-check` logs the same ones without
      // type-checking the whole graph, which the static checks' `deno check` already does.
      const dry = await runDeno(["publish", "--dry-run", "--allow-dirty", "--no-check", "--log-level=debug"])
      assert.equal(dry.code, 0, dry.stderr)
      const output = `${dry.stdout}\n${dry.stderr}`
      const files = [...output.matchAll(/file:\/\/(\S+) \(/g)].map((m) => m[1]!)
      const entry = JSON.parse(fs.readFileSync(nodePath.join(root, "deno.json"), "utf8")).exports["./cli"]
      assert.ok(files.includes(nodePath.join(root, entry)), `${entry} is published`)
      const rewrites = new Map<string, Array<readonly [string, string]>>()
      for (
        const [, specifier, referrer, target] of output.matchAll(
          /Unfurled specifier: (\S+) from file:\/\/(\S+) -> (\S+)/g,
        )
      ) {
        rewrites.set(referrer!, [...(rewrites.get(referrer!) ?? []), [specifier!, target!]])
      }
      assert.ok(rewrites.has(nodePath.join(root, "adapters", "cli", "Cli.ts")), "publishing rewrites bare specifiers")
      const mirror = fs.mkdtempSync(nodePath.join(fixture.dir, "jsr-"))
      for (const file of files) {
        if (nodePath.basename(file) === "deno.json") continue
        const target = nodePath.join(mirror, nodePath.relative(root, file))
        fs.mkdirSync(nodePath.dirname(target), { recursive: true })
        let text = fs.readFileSync(file, "utf8")
        for (const [specifier, unfurled] of rewrites.get(file) ?? []) {
          const quoted = JSON.stringify(specifier).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")
          text = text.replace(
            new RegExp(`((?:from|import)\\s*\\(?\\s*)${quoted}`, "g"),
            `$1${JSON.stringify(unfurled)}`,
          )
        }
        fs.writeFileSync(target, text)
      }
      return { mirror, entry }
    })()

  it(
    "the ./cli export, as JSR serves it, is the runnable CLI under the printed flags",
    { timeout: 300_000 },
    async () => {
      const { mirror, entry } = await jsrMirror()
      assert.doesNotMatch(
        fs.readFileSync(nodePath.join(mirror, "adapters", "cli", "Cli.ts"), "utf8"),
        /^import .* from "effect\//m,
      )
      const flags = await flagsFor({ kubeconfig: Option.some(fixture.kubeconfig) })
      const result = await runDeno(
        ["run", ...flags, entry, "token", "default", "--kubeconfig", fixture.kubeconfig],
        mirror,
      )
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /^eyJ/)
    },
  )

  it("deno install -g of the ./cli export installs sa-token with the printed flags, and it runs", {
    timeout: 300_000,
  }, async () => {
    const { mirror, entry } = await jsrMirror()
    const flags = await flagsFor({ kubeconfig: Option.some(fixture.kubeconfig) })
    const installRoot = fs.mkdtempSync(nodePath.join(fixture.dir, "install-"))
    const installed = await runDeno(
      ["install", "-g", "--quiet", "--root", installRoot, "-n", "sa-token", ...flags, nodePath.join(mirror, entry)],
      fixture.dir,
    )
    assert.equal(installed.code, 0, installed.stderr)
    const script = nodePath.join(installRoot, "bin", "sa-token")
    const text = fs.readFileSync(script, "utf8")
    assert.doesNotMatch(text, /(^|\s)-A(\s|$)|--allow-all/)
    for (const flag of flags) assert.ok(text.includes(flag), `${flag} in ${text}`)
    // The installed script runs the `deno` found in PATH.
    const env = { ...process.env, PATH: `${nodePath.dirname(deno)}:${process.env.PATH ?? ""}` }
    const sa = (args: ReadonlyArray<string>) => runWith(script, args, fixture.dir, env)
    const token = await sa(["token", "default", "--kubeconfig", fixture.kubeconfig])
    assert.equal(token.code, 0, token.stderr)
    assert.match(token.stdout, /^eyJ/)
    const printed = await sa(["permissions", "--kubeconfig", fixture.kubeconfig])
    assert.equal(printed.code, 0, printed.stderr)
    assert.equal(printed.stdout, `${flags.join(" ")}\n`)
  })
})
