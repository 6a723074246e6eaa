/**
 * The floor of a start-up in `effect/Micro`, Effect's own lightweight runtime (a subset of Effect without its fiber
 * runtime, layers or Schema), for `cli-latency.bench.ts`: one JSON value read, one line printed, as
 * `_effect-floor.ts` does with `effect/Effect` and `effect/Schema`. Bundled and run the same way, it shows what a path
 * written in Micro would pay on each runtime.
 */
import * as Micro from "effect/Micro"

Micro.runFork(
  Micro.try({ try: () => JSON.parse('{"name":"ok"}') as { readonly name: string }, catch: (error) => error }).pipe(
    Micro.flatMap((reply) => Micro.sync(() => console.log(reply.name))),
  ),
)
