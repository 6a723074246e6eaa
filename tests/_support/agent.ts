/**
 * Helpers for the agent suites: the shared agent fixtures (JWT-shaped tokens issued by a fake fetcher at TestClock
 * time, token specs, the token-bucket check), temporary directories, and a bounded wait for real file-system work to
 * finish (never used for time-based logic).
 */
import * as Effect from "effect/Effect"

export { epoch, issuer, jwt, spec, withinBudget } from "../../support/agentFixtures.ts"
export type { Issuer } from "../../support/agentFixtures.ts"
export { tempDir, withTempDir } from "./scratch.ts"

/** Waits (real time, in 2 ms steps, bounded) until `condition` holds: for real file I/O, never for TestClock logic. */
export const until = <E, R>(condition: Effect.Effect<boolean, E, R>, what: string): Effect.Effect<void, E | Error, R> =>
  Effect.gen(function* () {
    for (let i = 0; i < 2500; i++) {
      if (yield* condition) return
      yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 2)))
    }
    return yield* Effect.fail(new Error(`timed out waiting for ${what}`))
  })
