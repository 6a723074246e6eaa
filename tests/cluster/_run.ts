/**
 * `npm run test:cluster`: starts one real API server, runs the cluster suite's files (the arguments, or every
 * `tests/cluster/*.test.ts`) with `node --test` against it, stops it, and exits with the suite's status.
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

const started = Date.now()
const cluster = await startCluster()
console.log(`cluster: ${cluster.url} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (dir ${cluster.dir})`)

const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, ["--import", "tsx", "--test", ...files], {
    stdio: "inherit",
    env: { ...process.env, [sharedEnv.url]: cluster.url, [sharedEnv.dir]: cluster.dir },
  })
  child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)))
})
await cluster.stop()
process.exit(code)
