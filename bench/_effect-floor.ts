/**
 * The floor of any Effect program's start-up, for `cli-latency.bench.ts`: `effect/Effect` and `effect/Schema`, one
 * JSON decode, one line printed. The benchmark bundles it as the bin is bundled and runs it on each runtime, so that
 * the table shows how much of the bin's start-up is Effect's own.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

const Reply = Schema.Struct({ name: Schema.String })

Effect.runFork(
  Schema.decodeUnknown(Schema.parseJson(Reply))('{"name":"ok"}').pipe(
    Effect.flatMap((reply) => Console.log(reply.name)),
  ),
)
