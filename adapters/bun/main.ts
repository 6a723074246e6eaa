import * as Effect from "effect/Effect"
import * as Cli from "../agent/Cli.ts"
import * as Bun from "./mod.ts"

Cli.run(process.argv).pipe(Effect.provide(Bun.layer), Bun.runMain({ disableErrorReporting: true }))
