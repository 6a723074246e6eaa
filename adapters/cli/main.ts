#!/usr/bin/env node
/**
 * The npm package's `sa-token` bin. `bunx --bun sa-token` and `deno run npm:…` run this same file on Bun and Deno, whose
 * stand-ins for undici ignore TLS settings, so it wires the runtime it finds itself on.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Cli from "./Cli.ts"
import { reportUncaught } from "./MissingPermission.ts"

const Runtime = "Deno" in globalThis
  ? await import("../deno/mod.ts")
  : process.versions.bun !== undefined
  ? await import("../bun/mod.ts")
  : await import("../node/mod.ts")

reportUncaught()
Cli.run(process.argv).pipe(Effect.provide(Runtime.layer), Runtime.runMain({ disableErrorReporting: true }))
