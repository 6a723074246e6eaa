/**
 * Bun's {@link LeanHost}: files through `node:fs` (`NodeLeanFiles.ts`, which loads it at the first file call), the
 * agent's socket through Bun's own `fetch` and its `unix` option. `node:http` is never loaded: it costs as much as
 * Bun's whole start.
 *
 * @module
 */
import * as LeanFetch from "../platform/LeanFetch.ts"
import type { LeanHost } from "../platform/LeanHost.ts"
import { files } from "../platform/NodeLeanFiles.ts"

/** Bun's extension of `RequestInit`: the unix socket to send the request over (declared here: no Bun types). */
interface BunUnixRequestInit extends RequestInit {
  readonly unix: string
}

const unixGet: LeanHost["unixGet"] = (socket, path, options) => {
  const init: BunUnixRequestInit = { unix: socket }
  return LeanFetch.get(`http://localhost${path}`, init, options)
}

/** Bun's host of the lean `exec-credential` answers. */
export const leanHost: LeanHost = { ...files, unixGet }
