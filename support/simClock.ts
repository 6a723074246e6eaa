/**
 * A discrete-event simulation of time for long, many-fibre runs where TestClock is too slow. TestClock wakes one sleep
 * at a time and, before each, waits on real `setTimeout` yields until a scan of every fibre shows them all suspended,
 * and sorts every pending sleep; with 10,000 sleeping fibres that is minutes per simulated day. Here instead every
 * fibre of the program runs on a scheduler whose queue this module drains itself, and `sleep` puts the fibre in a
 * binary heap keyed by wake-up time: drain the queue (every fibre runs until it suspends), pop the earliest sleeper,
 * set the time, resume it, repeat. The program must do no real I/O (nothing outside this clock can wake a fibre).
 * `simulate` drives a program to its end; `bench/agent-day.bench.ts` drives the clock and the queue itself. Shared by
 * tests and benches (this folder is neither, and is not published).
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Random from "effect/Random"
import * as Scheduler from "effect/Scheduler"

interface Sleeper {
  readonly at: number
  readonly seq: number
  readonly wake: () => void
  cancelled: boolean
}

const before = (a: Sleeper, b: Sleeper) => a.at < b.at || (a.at === b.at && a.seq < b.seq)

/** A min-heap of sleepers. */
class Heap {
  items: Array<Sleeper> = []
  get size(): number {
    return this.items.length
  }
  peek(): Sleeper | undefined {
    return this.items[0]
  }
  push(s: Sleeper) {
    const items = this.items
    items.push(s)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }
  pop(): Sleeper | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) {
      items[0] = last
      let i = 0
      while (true) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < items.length && before(items[l]!, items[m]!)) m = l
        if (r < items.length && before(items[r]!, items[m]!)) m = r
        if (m === i) break
        ;[items[i], items[m]] = [items[m]!, items[i]!]
        i = m
      }
    }
    return top
  }
}

/** The simulated clock: `now` moves only when the driver wakes the next sleeper. */
export class SimClock implements Clock.Clock {
  readonly [Clock.ClockTypeId]: Clock.ClockTypeId = Clock.ClockTypeId
  now: number
  wakeups = 0
  private seq = 0
  readonly heap = new Heap()
  constructor(start: number) {
    this.now = start
  }
  unsafeCurrentTimeMillis(): number {
    return this.now
  }
  readonly currentTimeMillis: Effect.Effect<number> = Effect.sync(() => this.now)
  unsafeCurrentTimeNanos(): bigint {
    return BigInt(this.now) * 1_000_000n
  }
  readonly currentTimeNanos: Effect.Effect<bigint> = Effect.sync(() => BigInt(this.now) * 1_000_000n)
  sleep(duration: Duration.Duration): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      const millis = Duration.toMillis(duration)
      const sleeper: Sleeper = {
        at: this.now + Math.max(0, millis),
        seq: this.seq++,
        wake: () => resume(Effect.void),
        cancelled: false,
      }
      if (sleeper.at !== Infinity) this.heap.push(sleeper)
      return Effect.sync(() => {
        sleeper.cancelled = true
      })
    })
  }
}

/** A fibre scheduler that only queues tasks; `flush` runs them, and what they queue, until none is left. */
export const queueScheduler = (): { readonly scheduler: Scheduler.Scheduler; readonly flush: () => void } => {
  let queue: Array<() => void> = []
  return {
    scheduler: Scheduler.make((task) => void queue.push(task)),
    flush: () => {
      while (queue.length > 0) {
        const batch = queue
        queue = []
        for (const task of batch) task()
      }
    },
  }
}

/**
 * Runs a program to completion in simulated time starting at `start` (with a seeded `Random`), synchronously, and
 * returns its exit and the clock. Fails loudly if every fibre waits and no sleeper is left (a deadlock).
 */
export const simulate = <A, E>(
  start: number,
  seed: string,
  program: (clock: SimClock) => Effect.Effect<A, E>,
): { readonly exit: Exit.Exit<A, E>; readonly clock: SimClock } => {
  const clock = new SimClock(start)
  const { scheduler, flush } = queueScheduler()
  const fiber = Effect.runFork(
    program(clock).pipe(Effect.withClock(clock), Effect.withRandom(Random.make(seed)), Effect.withScheduler(scheduler)),
    { scheduler },
  )
  let exit: Exit.Exit<A, E> | undefined
  fiber.addObserver((e) => {
    exit = e
  })
  while (true) {
    flush()
    if (exit !== undefined) return { exit, clock }
    const next = clock.heap.pop()
    if (next === undefined) throw new Error("simulation deadlock: no fibre can make progress")
    if (next.cancelled) continue
    clock.now = Math.max(clock.now, next.at)
    clock.wakeups++
    next.wake()
  }
}

export { Exit }
