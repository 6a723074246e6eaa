import * as Effect from "effect/Effect"
import * as Cli from "../agent/Cli.ts"
import * as DenoPlatform from "./mod.ts"

Cli.run(["deno", "main.ts", ...Deno.args]).pipe(
  Effect.provide(DenoPlatform.layer),
  DenoPlatform.runMain({ disableErrorReporting: true }),
)
