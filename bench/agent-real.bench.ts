/**
 * the real agent process on each runtime (Deno, Node, Bun, from this repository's node_modules/.bin)
 * with N declared tokens (each its own service account, one file each in one directory) against the development API
 * server started in this process, with the budget raised for the run (`budget: { qps: 100000, burst: 100000 }`).
 *
 * Figures, per runtime:
 * - time from spawning the agent until every token file is written, against the time the server alone needs to issue
 *   N tokens, measured in the same run: N TokenRequests over HTTPS through the project's own fetcher from this
 *   process (16 at a time), and N calls of the server's handler without HTTP (signing only);
 * - the agent's RSS once idle (VmRSS, and the peak VmHWM, from /proc/PID/status);
 * - the CPU it uses while idle (utime + stime from /proc/PID/stat), over `AGENT_REAL_IDLE_SECONDS` (default 60)
 *   instead of the 10 minutes, also scaled to 10 minutes. The tokens live 1 h, so no rotation happens in the
 *   window: this is the agent's own idle cost (timers, the manager's garbage collector).
 *
 * Environment: `AGENT_REAL_TOKENS` (default 2,000), `AGENT_REAL_IDLE_SECONDS` (60), `AGENT_REAL_RUNTIMES`
 * (`deno,node,bun`), `AGENT_REAL_TIMEOUT_SECONDS` (300, per runtime, for writing every file).
 *
 * Run: `node --import tsx bench/agent-real.bench.ts`. Every process started here is stopped here, even on failure.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import process from "node:process"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Agent from "../adapters/agent/Agent.ts"
import * as DevServer from "../adapters/devserver/mod.ts"
import * as NodeRuntime from "../adapters/node/mod.ts"
import * as Signer from "../adapters/devserver/Signer.ts"
import * as State from "../adapters/devserver/State.ts"
import { createToken } from "../adapters/devserver/TokenEndpoint.ts"
import { cliCommand, closeAndExit, cpuTicks, leafPid, memory, start, ticksPerSecond } from "./_procs.ts"
import { fmt, printTable, runtimeName, sleep } from "./_util.ts"

const env = process.env
const n = Number(env.AGENT_REAL_TOKENS ?? 2000)
const idleSeconds = Number(env.AGENT_REAL_IDLE_SECONDS ?? 60)
const runtimes = (env.AGENT_REAL_RUNTIMES ?? "deno,node,bun").split(",").map((s) => s.trim()).filter(Boolean)
const timeoutSeconds = Number(env.AGENT_REAL_TIMEOUT_SECONDS ?? 300)
const lifetimeSeconds = 3600

const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "bench-agent-real-"))
const scope = Effect.runSync(Scope.make())
const serviceAccounts = Array.from({ length: n }, (_, i) => ({ namespace: "default", name: `sa-${i}` }))

const seconds = (millis: number) => `${fmt(millis / 1000, 2)} s`

try {
  console.log(`# agent-real: the agent process with ${fmt(n)} tokens against the development API server`)
  console.log(`bench process: ${runtimeName()}; idle window ${idleSeconds} s (the issue asks for 10 minutes)`)
  const kubeconfig = nodePath.join(dir, "kubeconfig")
  const server = await Effect.runPromise(
    Scope.extend(
      DevServer.start({ kubeconfigOut: kubeconfig, state: { namespaces: ["default"], serviceAccounts } }),
      scope,
    ),
  )

  // Baseline 1: the server's handler alone (signing, no HTTP), N tokens, in this process.
  const signer = await Signer.makeSignerAsync(server.issuer)
  const state = State.make({ namespaces: ["default"], serviceAccounts })
  const config = {
    issuer: server.issuer,
    apiAudiences: [server.issuer],
    maxTokenExpirationSeconds: 0,
    extendTokenExpiration: true,
    minTokenExpirationSeconds: 600,
    maxExtendedExpirationSeconds: 31536000,
  }
  const identity = { user: "kubernetes-admin", groups: ["system:masters"] }
  const signStart = performance.now()
  for (let i = 0; i < n; i++) {
    await createToken(config, state, signer, {
      namespace: "default",
      name: `sa-${i}`,
      body: { spec: { expirationSeconds: lifetimeSeconds } },
      identity,
      now: new Date(),
    })
  }
  const signMillis = performance.now() - signStart

  // Baseline 2: N TokenRequests over HTTPS to the server through the project's fetcher (Node), 16 at a time.
  const httpsStart = performance.now()
  const httpsExit = await Effect.runPromiseExit(
    Effect.scoped(Effect.gen(function* () {
      const fetcher = yield* Agent.kubeFetcher({ kubeconfig, context: undefined, inCluster: false })
      yield* Effect.forEach(
        serviceAccounts,
        (sa) => fetcher.fetch("default", sa.name, { spec: { expirationSeconds: lifetimeSeconds } }),
        { concurrency: 16, discard: true },
      )
    })).pipe(Effect.provide(Layer.merge(NodeContext.layer, NodeRuntime.layerTlsHttpClient))),
  )
  const httpsMillis = performance.now() - httpsStart
  if (Exit.isFailure(httpsExit)) throw new Error(`the HTTPS baseline failed: ${String(httpsExit.cause)}`)
  console.log(
    `server alone: ${fmt(n)} tokens signed by the handler in ${seconds(signMillis)}; ` +
      `${fmt(n)} TokenRequests over HTTPS (16 at a time) in ${seconds(httpsMillis)}`,
  )

  const rows: Array<Array<string>> = []
  const idleRows: Array<Array<string>> = []
  const errors: Array<string> = []
  for (const runtime of runtimes) {
    // The baseline for memory and idle CPU: the same runtime running an agent with one token.
    const oneConfig = nodePath.join(dir, `agent-${runtime}-one.yaml`)
    const oneOut = nodePath.join(dir, `one-${runtime}`)
    fs.writeFileSync(
      oneConfig,
      `cluster: { kubeconfig: ${kubeconfig} }\nlog: { format: json, level: warning }\ntokens:\n` +
        `  - { name: one, namespace: default, serviceAccount: sa-0, expirationSeconds: ${lifetimeSeconds}, file: { path: ${oneOut}/one } }\n`,
    )
    const one = start([...cliCommand(runtime), "agent", "--config", oneConfig])
    let oneRss = NaN
    let oneCpu = NaN
    try {
      for (let i = 0; i < 1200 && !fs.existsSync(nodePath.join(oneOut, "one")); i++) await sleep(50)
      await sleep(2000)
      const onePid = leafPid(one.pid)
      oneRss = memory(onePid).rssKiB
      const t0 = cpuTicks(onePid)
      const w0 = performance.now()
      await sleep(Math.min(idleSeconds, 20) * 1000)
      oneCpu = (cpuTicks(onePid) - t0) / ticksPerSecond / ((performance.now() - w0) / 1000)
    } finally {
      await one.stop()
    }
    const out = nodePath.join(dir, `out-${runtime}`)
    const configPath = nodePath.join(dir, `agent-${runtime}.yaml`)
    const lines = [
      `cluster: { kubeconfig: ${kubeconfig} }`,
      `budget: { qps: 100000, burst: 100000 }`,
      `log: { format: json, level: warning }`,
      `tokens:`,
      ...serviceAccounts.map((sa, i) =>
        `  - { name: t-${i}, namespace: default, serviceAccount: ${sa.name}, expirationSeconds: ${lifetimeSeconds}, file: { path: ${out}/t-${i} } }`
      ),
    ]
    fs.writeFileSync(configPath, lines.join("\n") + "\n")
    const issuedBefore = server.stats.tokensIssued
    const started = performance.now()
    const agent = start([...cliCommand(runtime), "agent", "--config", configPath])
    let failed = 0
    let firstError = ""
    let pending = ""
    agent.child.stderr!.on("data", (d: Buffer) => {
      const lines = (pending + d.toString()).split("\n")
      pending = lines.pop() ?? ""
      for (const line of lines) {
        if (!line.includes("token refresh failed")) continue
        failed++
        if (firstError === "") {
          firstError = /"err":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1]?.slice(0, 400) ?? line.slice(0, 400)
        }
      }
    })
    try {
      let firstFile = NaN
      let allFiles = NaN
      let written = 0
      const deadline = started + timeoutSeconds * 1000
      while (performance.now() < deadline) {
        if (agent.child.exitCode !== null) break
        try {
          written = fs.readdirSync(out).filter((f) => !f.endsWith(".tmp")).length
        } catch {
          written = 0
        }
        if (written > 0 && Number.isNaN(firstFile)) firstFile = performance.now() - started
        if (written >= n) {
          allFiles = performance.now() - started
          break
        }
        await sleep(50)
      }
      const issued = server.stats.tokensIssued - issuedBefore
      if (failed > 0) errors.push(`${runtime}: ${fmt(failed)} failed attempts (retried), e.g. ${firstError}`)
      if (Number.isNaN(allFiles)) {
        console.log(
          `${runtime}: only ${fmt(written)} of ${fmt(n)} files after ${timeoutSeconds} s (or the agent exited)`,
        )
        console.log(agent.stderr().slice(-2000))
      }
      await sleep(2000)
      const pid = leafPid(agent.pid)
      const before = { ticks: cpuTicks(pid), at: performance.now() }
      const mem0 = memory(pid)
      await sleep(idleSeconds * 1000)
      const ticks = cpuTicks(pid) - before.ticks
      const idleWall = (performance.now() - before.at) / 1000
      const mem1 = memory(pid)
      const cpuSeconds = ticks / ticksPerSecond
      rows.push([
        runtime,
        fmt(n),
        `${fmt(written)}${Number.isNaN(allFiles) ? " (timeout)" : ""}`,
        fmt(issued),
        fmt(failed),
        seconds(firstFile),
        seconds(allFiles),
        `${fmt(allFiles / httpsMillis, 2)}x`,
        `${fmt(allFiles / signMillis, 2)}x`,
      ])
      idleRows.push([
        runtime,
        `${fmt(oneRss / 1024, 1)} MiB`,
        `${fmt(mem0.rssKiB / 1024, 1)} MiB`,
        `${fmt(mem1.rssKiB / 1024, 1)} MiB`,
        `${fmt(mem1.hwmKiB / 1024, 1)} MiB`,
        `${fmt(mem1.rssKiB / oneRss, 2)}x`,
        `${fmt(((mem1.rssKiB - oneRss) * 1024) / Math.max(1, n - 1), 0)} B`,
        `${fmt(cpuSeconds, 2)} s / ${fmt(idleWall, 0)} s`,
        `${fmt((cpuSeconds / idleWall) * 100, 2)} % (1 token: ${fmt(oneCpu * 100, 2)} %)`,
        `${fmt((cpuSeconds * 600) / idleWall, 1)} s`,
      ])
    } finally {
      await agent.stop()
    }
  }
  console.log()
  console.log(
    `Time until every file is written, against the server alone (HTTPS ${seconds(httpsMillis)}, ` +
      `handler only ${seconds(signMillis)}), ${fmt(n)} tokens:`,
  )
  printTable(
    [
      "Runtime",
      "Tokens",
      "Files written",
      "Tokens issued",
      "Failed attempts",
      "First file",
      "Every file",
      "vs server over HTTPS",
      "vs server handler only",
    ],
    rows,
  )
  for (const error of errors) console.log(error)
  console.log()
  console.log(
    `Idle agent (${fmt(n)} tokens of 1 h, no rotation in the window), ${idleSeconds} s instead of 10 minutes:`,
  )
  printTable(
    [
      "Runtime",
      "RSS, agent with 1 token",
      "RSS idle (start)",
      "RSS idle (end)",
      "Peak RSS",
      "End / 1 token",
      "RSS per extra token",
      "CPU used",
      "CPU share",
      "Scaled to 10 min",
    ],
    idleRows,
  )
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  await closeAndExit(dir, scope)
}
