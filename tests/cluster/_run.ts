/**
 * `npm run test:cluster`: starts one real API server, runs the cluster suite's files (the arguments, or every
 * `tests/cluster/*.test.ts`) with `node --test` against it, stops it, and exits with the suite's status.
 *
 * Files named `*.slow.test.ts` wait on the server's real clock (a token rotation takes minutes, since the server issues
 * nothing shorter than 10 minutes): they run in a second `node --test` process alongside the others, which run one
 * after another as before, so that the suite takes about as long as its slowest file. Their report is printed once
 * the other files have finished, so that the two reports do not interleave.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { root, sharedEnv, startCluster } from "./_cluster.ts"

const files = process.argv.slice(2)
if (files.length === 0) {
  const dir = path.join(root, "tests/cluster")
  files.push(
    ...fs.readdirSync(dir).filter((name) => name.endsWith(".test.ts")).sort().map((name) => path.join(dir, name)),
  )
}
const slow = files.filter((file) => file.endsWith(".slow.test.ts"))
const rest = files.filter((file) => !file.endsWith(".slow.test.ts"))

const started = Date.now()
const cluster = await startCluster()
console.log(`cluster: ${cluster.url} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (dir ${cluster.dir})`)
const env = { ...process.env, [sharedEnv.url]: cluster.url, [sharedEnv.dir]: cluster.dir }

/** Runs `node --test` over `group`; `buffered` collects its output instead of printing it as it comes. */
const run = (group: ReadonlyArray<string>, buffered: boolean): Promise<{ code: number; output: string }> =>
  new Promise((resolve) => {
    if (group.length === 0) return resolve({ code: 0, output: "" })
    const child = spawn(process.execPath, ["--import", "tsx", "--test", ...group], {
      stdio: buffered ? ["ignore", "pipe", "pipe"] : "inherit",
      env,
    })
    let output = ""
    if (buffered) {
      for (const stream of [child.stdout!, child.stderr!]) stream.on("data", (chunk) => output += String(chunk))
    }
    child.once("exit", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }))
  })

const slowRun = run(slow, true)
const restRun = await run(rest, false)
if (slow.length > 0) {
  console.log(`cluster: waiting for ${slow.map((file) => path.basename(file)).join(", ")}`)
  const done = await slowRun
  process.stdout.write(done.output)
}
const slowDone = await slowRun
await cluster.stop()
process.exit(restRun.code !== 0 ? restRun.code : slowDone.code)
