/**
 * Runs the core inside QuickJS compiled to WebAssembly (quickjs-emscripten): bundles `scenario.ts` (which imports
 * `mod.ts`) with esbuild into one IIFE, evaluates the shims of `prelude.js` and then the bundle in a fresh VM, and
 * serves the VM's TokenRequest calls from a fetcher implemented here, in the host. Host timers back the VM's
 * `setTimeout`; after every entry into the VM the runtime's pending jobs (promise reactions) are run.
 */
import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"
import * as esbuild from "esbuild"
import { getQuickJS } from "quickjs-emscripten"
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten"
import type { Behaviour, Check, HostRequest } from "./scenario.ts"

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))

/** A bundle and its sizes. */
export interface Bundle {
  readonly code: string
  /** Bytes of the minified bundle. */
  readonly bytes: number
  /** Bytes of the minified bundle after gzip (node:zlib, default level). */
  readonly gzipBytes: number
}

const build = async (options: esbuild.BuildOptions): Promise<Bundle> => {
  const result = await esbuild.build({
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2020",
    minify: true,
    legalComments: "none",
    logLevel: "silent",
    ...options,
  })
  const code = result.outputFiles![0].text
  const bytes = new TextEncoder().encode(code)
  return { code, bytes: bytes.length, gzipBytes: gzipSync(bytes).length }
}

/** The scenario with everything it imports (mod.ts, effect), as one minified IIFE. */
export const bundleScenario = (): Promise<Bundle> => build({ entryPoints: [here("./scenario.ts")] })

/** `mod.ts` alone, every export kept (as the global `SaTokenManager`), as one minified IIFE. */
export const bundleLibrary = (): Promise<Bundle> =>
  build({ entryPoints: [here("../../../mod.ts")], globalName: "SaTokenManager" })

/** `mod.ts` with its dependencies left out (ESM, minified): only the code of core/, to scan for runtime APIs. */
export const bundleCoreOnly = (): Promise<Bundle> =>
  build({ entryPoints: [here("../../../mod.ts")], packages: "external", format: "esm" })

/** What the host fetcher does, as the scenario last programmed it. */
class HostFetcher {
  behaviour: Behaviour = { kind: "fail", message: "no behaviour programmed" }
  calls = 0
  numbered = 0

  program(behaviour: Behaviour): void {
    this.behaviour = behaviour
    this.numbered = 0
  }

  /** One TokenRequest call: a wire-format response body, or an error message. */
  fetch(message: HostRequest): { body: string } | { error: string } {
    this.calls++
    const b = this.behaviour
    const rfc3339 = (millis: number) => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z")
    const { request } = message
    switch (b.kind) {
      case "fail":
        return { error: b.message }
      case "fixed":
        return {
          body: JSON.stringify({
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: { expirationSeconds: b.expirationSeconds },
            status: { token: b.token, expirationTimestamp: rfc3339(b.expiresAt) },
          }),
        }
      case "echo":
        return {
          body: JSON.stringify({
            ...request,
            spec: b.expirationSeconds === undefined
              ? request.spec
              : { ...request.spec, expirationSeconds: b.expirationSeconds },
            status: {
              token: `token-for-${message.namespace}-${message.name}`,
              expirationTimestamp: rfc3339(message.now + b.ttlMillis),
            },
          }),
        }
      case "numbered":
        return {
          body: JSON.stringify({
            ...request,
            metadata: request.metadata,
            spec: { ...request.spec, expirationSeconds: 3600 },
            status: { token: `token-${++this.numbered}`, expirationTimestamp: rfc3339(message.now + 3600_000) },
          }),
        }
    }
  }
}

/** What a run of the scenario produced. */
export interface Outcome {
  readonly checks: ReadonlyArray<Check>
  /** A failure of the scenario program itself (not of a check), if any. */
  readonly error?: string
  /** Everything the VM wrote to its console. */
  readonly logs: ReadonlyArray<string>
  /** TokenRequest calls the host served. */
  readonly fetches: number
}

/** Runs a bundle of `scenario.ts` inside a fresh QuickJS VM; disposes every handle, timer and the VM afterwards. */
export const runScenario = async (bundle: Bundle, timeoutMillis = 60_000): Promise<Outcome> => {
  const QuickJS = await getQuickJS()
  const runtime: QuickJSRuntime = QuickJS.newRuntime()
  const vm: QuickJSContext = runtime.newContext()
  const fetcher = new HostFetcher()
  const logs: Array<string> = []
  const timers = new Map<number, { timer: ReturnType<typeof setTimeout>; callback: QuickJSHandle }>()
  let nextTimer = 1
  let finished = false
  let settle!: (outcome: { checks: ReadonlyArray<Check>; error?: string }) => void
  let fail!: (error: Error) => void
  const done = new Promise<{ checks: ReadonlyArray<Check>; error?: string }>((resolve, reject) => {
    settle = resolve
    fail = reject
  })

  /** Runs the VM's promise jobs until none is left; a job that throws ends the run. */
  const drain = (): void => {
    if (finished || !runtime.alive) return
    const result = runtime.executePendingJobs()
    if (result.error) {
      const error = result.error.context.dump(result.error)
      result.error.dispose()
      fail(new Error(`pending job failed in QuickJS: ${JSON.stringify(error)}`))
    }
  }
  /** Calls a VM function from the host, then drains. */
  const call = (fn: QuickJSHandle, ...args: Array<QuickJSHandle>): void => {
    if (finished || !vm.alive) return
    const result = vm.callFunction(fn, vm.undefined, ...args)
    if (result.error) {
      const error = vm.dump(result.error)
      result.error.dispose()
      fail(new Error(`callback failed in QuickJS: ${JSON.stringify(error)}`))
    } else {
      result.value.dispose()
    }
    drain()
  }

  const hostObject = vm.newObject()
  const define = (name: string, fn: Parameters<QuickJSContext["newFunction"]>[1]) => {
    const handle = vm.newFunction(name, fn)
    vm.setProp(hostObject, name, handle)
    handle.dispose()
  }
  define("setTimeout", (callbackHandle, delayHandle) => {
    const id = nextTimer++
    const callback = callbackHandle.dup()
    const timer = setTimeout(() => {
      timers.delete(id)
      call(callback)
      callback.dispose()
    }, vm.getNumber(delayHandle))
    timers.set(id, { timer, callback })
    return vm.newNumber(id)
  })
  define("clearTimeout", (idHandle) => {
    const id = vm.getNumber(idHandle)
    const entry = timers.get(id)
    if (entry !== undefined) {
      clearTimeout(entry.timer)
      entry.callback.dispose()
      timers.delete(id)
    }
  })
  define("log", (levelHandle, messageHandle) => {
    logs.push(`${vm.getString(levelHandle)}: ${vm.getString(messageHandle)}`)
  })
  define("program", (behaviourHandle) => {
    fetcher.program(JSON.parse(vm.getString(behaviourHandle)) as Behaviour)
  })
  define("calls", () => vm.newNumber(fetcher.calls))
  define("fetch", (requestHandle, callbackHandle) => {
    const message = JSON.parse(vm.getString(requestHandle)) as HostRequest
    const callback = callbackHandle.dup()
    // Answer asynchronously, as a network call would.
    const id = nextTimer++
    const timer = setTimeout(() => {
      timers.delete(id)
      const result = fetcher.fetch(message)
      const error = "error" in result ? vm.newString(result.error) : vm.undefined
      const body = "body" in result ? vm.newString(result.body) : vm.undefined
      call(callback, error, body)
      error.dispose()
      body.dispose()
      callback.dispose()
    }, 0)
    timers.set(id, { timer, callback })
  })
  define("report", (resultsHandle) => {
    settle(JSON.parse(vm.getString(resultsHandle)))
  })
  vm.setProp(vm.global, "__host", hostObject)
  hostObject.dispose()

  const guard = setTimeout(
    () => fail(new Error(`the scenario did not finish within ${timeoutMillis} ms`)),
    timeoutMillis,
  )
  try {
    const prelude = await readFile(here("./prelude.js"), "utf8")
    for (const [file, code] of [["prelude.js", prelude], ["scenario bundle", bundle.code]] as const) {
      const result = vm.evalCode(code, file)
      if (result.error) {
        const error = vm.dump(result.error)
        result.error.dispose()
        throw new Error(`evaluating ${file} in QuickJS failed: ${JSON.stringify(error)}`)
      }
      result.value.dispose()
      drain()
    }
    const outcome = await done
    return { ...outcome, logs, fetches: fetcher.calls }
  } finally {
    finished = true
    clearTimeout(guard)
    for (const { callback, timer } of timers.values()) {
      clearTimeout(timer)
      callback.dispose()
    }
    timers.clear()
    vm.dispose()
    runtime.dispose()
  }
}
