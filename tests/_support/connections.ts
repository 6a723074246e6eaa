/**
 * Idle connections for the connection-limit suites: open many sockets that send nothing (or only part of a request)
 * and wait for the server to close them, by their `close` events, never by elapsed time. A watchdog fails the wait
 * when the server never closes them (a server without limits), so that the test fails instead of hanging.
 */
import type * as net from "node:net"

/** A batch of client sockets and the number the server has closed so far. */
export interface Batch {
  readonly sockets: ReadonlyArray<net.Socket>
  /** Whether each socket is closed. */
  readonly isClosed: (socket: net.Socket) => boolean
  /** Resolves once `count` sockets of the batch are closed; rejects if they are still open after 20 s. */
  readonly closed: (count: number) => Promise<void>
  /** Destroys every socket of the batch. */
  readonly destroy: () => void
}

/** Opens `n` sockets with `connect` (each waits to be connected before the next one is opened, in groups of 50). */
export const open = async (n: number, connect: () => net.Socket): Promise<Batch> => {
  const sockets: Array<net.Socket> = []
  const done = new Set<net.Socket>()
  const waiters: Array<{ count: number; resolve: () => void }> = []
  const settle = () => {
    for (const waiter of waiters.filter((w) => done.size >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  }
  for (let i = 0; i < n; i += 50) {
    const group = Array.from({ length: Math.min(50, n - i) }, () => {
      const socket = connect()
      socket.on("error", () => {})
      socket.once("close", () => {
        done.add(socket)
        settle()
      })
      sockets.push(socket)
      return new Promise<void>((resolve) => {
        socket.once("connect", () => resolve())
        socket.once("close", () => resolve())
      })
    })
    await Promise.all(group)
  }
  return {
    sockets,
    isClosed: (socket) => done.has(socket),
    closed: (count) =>
      new Promise((resolve, reject) => {
        const watchdog = setTimeout(() => {
          waiters.splice(waiters.findIndex((w) => w.resolve === finish), 1)
          reject(new Error(`the server closed ${done.size} of the ${count} connections it should have closed`))
        }, 20_000)
        const finish = () => {
          clearTimeout(watchdog)
          resolve()
        }
        waiters.push({ count, resolve: finish })
        settle()
      }),
    destroy: () => sockets.forEach((socket) => socket.destroy()),
  }
}
