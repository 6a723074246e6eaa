import * as Effect from "effect/Effect"
import * as Cli from "../agent/Cli.ts"
import * as Deno_ from "./mod.ts"

Cli.run(["deno", "main.ts", ...Deno.args]).pipe(
  Effect.provide(Deno_.layer),
  Deno_.runMain({ disableErrorReporting: true }),
)
