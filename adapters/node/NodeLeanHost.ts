/**
 * Node's {@link LeanHost}: files through `node:fs` (`NodeLeanFiles.ts`), the agent's socket through `node:http`, which
 * is loaded only when a socket is asked.
 *
 * @module
 */
import * as LeanFailures from "../platform/LeanFailures.ts"
import type { LeanHost } from "../platform/LeanHost.ts"
import { files } from "../platform/NodeLeanFiles.ts"

const unixGet: LeanHost["unixGet"] = async (socket, path, { headers, timeoutMillis, maxBytes }) => {
  const http = await import("node:http")
  return new Promise((resolve, reject) => {
    const request = http.request(
      { socketPath: socket, path, method: "GET", headers, timeout: timeoutMillis },
      (res) => {
        const chunks: Array<Buffer> = []
        let size = 0
        res.on("data", (chunk: Buffer) => {
          size += chunk.length
          if (size <= maxBytes) return chunks.push(chunk)
          reject(LeanFailures.tooLarge(LeanFailures.answer, maxBytes))
          request.destroy()
        })
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }))
        res.on("error", reject)
        res.on("aborted", () => reject(LeanFailures.cutShort()))
      },
    )
    request.on("timeout", () => {
      reject(LeanFailures.noAnswerWithin(timeoutMillis))
      request.destroy()
    })
    request.on("error", reject)
    request.end()
  })
}

/** Node's host of the lean `exec-credential` answers. */
export const leanHost: LeanHost = { ...files, unixGet }
