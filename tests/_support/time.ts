/** The test suites' time: kubelet's test epoch, the units, and setting the TestClock. */
import type * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"

/** Go's zero time plus 30 days (0001-01-31T00:00:00Z), kubelet's test epoch `T0`. */
export const T0 = -62133004800000
export const second = 1000
export const minute = 60 * second
export const hour = 60 * minute

/** Sets the TestClock to an absolute time (TestClock starts at 0, the Unix epoch). */
export const setTime = (millis: number): Effect.Effect<void> => TestClock.setTime(millis)
