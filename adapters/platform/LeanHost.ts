/**
 * The machine as the lean `exec-credential` answers see it: the few calls that read a private cache file, a kubeconfig
 * and an agent's unix socket. kubectl runs its exec plugin on every command, and those answers must start in a few
 * milliseconds, so they are written in `effect/Micro` and this port is plain functions and promises: a runtime's
 * implementation loads no Effect module at all, and each uses the runtime's own calls (`Deno.*` on Deno, whose Node
 * compatibility layer costs more to start than the whole answer; `fetch` over a unix socket on Bun, where `node:http`
 * costs as much as Bun's start). The answers reach it through the {@link LeanHost} tag.
 *
 * A promise rejects on anything but a file that is absent (which is `undefined`): the lean answers then give up and
 * leave the command to the full CLI, which reports what is wrong.
 *
 * @module
 */
import * as Context from "effect/Context"

/** What `stat(2)` says of a file that the lean answers check before they trust it. */
export interface LeanFileInfo {
  /** The owner's user id. */
  readonly uid: number
  /** The group's id. */
  readonly gid: number
  /** The permission bits, with setuid, setgid and sticky (`mode & 0o7777`). */
  readonly mode: number
}

/** A file read whole, with what `fstat(2)` said of the descriptor it was read from. */
export interface LeanFile {
  readonly data: Uint8Array
  readonly info: LeanFileInfo
}

/** The answer to an HTTP GET: its status and its body, as text. */
export interface LeanReply {
  readonly status: number
  readonly body: string
}

/** The machine, as the lean `exec-credential` answers use it. */
export interface LeanHost {
  /** The current time, in epoch milliseconds. */
  readonly now: () => number
  /** The working directory, against which relative paths resolve. */
  readonly cwd: () => string
  /** An environment variable; `undefined` when it is not set. */
  readonly env: (name: string) => string | undefined
  /** The effective user id. */
  readonly uid: () => number
  /** `stat(2)` of a path, a symlink followed; `undefined` when nothing is there. */
  readonly stat: (path: string) => Promise<LeanFileInfo | undefined>
  /** `realpath(3)`: the path with every symlink resolved; `undefined` when nothing is there. */
  readonly realPath: (path: string) => Promise<string | undefined>
  /**
   * Reads a regular file whole, never through a symlink in its last component (a symlink, a directory, a FIFO or a
   * device rejects, as does a file larger than `maxBytes`); `info` comes from the descriptor read, so it describes
   * the bytes returned. `undefined` when nothing is there.
   */
  readonly readFile: (path: string, maxBytes: number) => Promise<LeanFile | undefined>
  /**
   * `GET path` over the HTTP/1.1 server listening on the unix socket `socket`, with these headers; rejects when nothing
   * answers within `timeoutMillis` or the body is larger than `maxBytes`.
   */
  readonly unixGet: (
    socket: string,
    path: string,
    options: {
      readonly headers: Readonly<Record<string, string>>
      readonly timeoutMillis: number
      readonly maxBytes: number
    },
  ) => Promise<LeanReply>
}

/** The {@link LeanHost} of the runtime the lean answers run on. */
export const LeanHost: Context.Tag<LeanHost, LeanHost> = Context.GenericTag<LeanHost>("sa-token/LeanHost")
