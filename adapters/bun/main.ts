import * as BunContext from "@effect/platform-bun/BunContext"
import * as BunRuntime from "@effect/platform-bun/BunRuntime"
import * as Effect from "effect/Effect"
import * as Cli from "../agent/Cli.ts"

Cli.run(process.argv).pipe(Effect.provide(BunContext.layer), BunRuntime.runMain({ disableErrorReporting: true }))
