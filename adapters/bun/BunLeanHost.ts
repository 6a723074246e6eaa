/**
 * Bun's {@link LeanHost}: files through `node:fs` (`NodeLeanFiles.ts`, which loads it at the first file call), the
 * agent's socket through Bun's own `fetch` and its `unix` option. `node:http` is never loaded: it costs as much as
 * Bun's whole start.
 *
 * @module
 */
import * as LeanFailures from "../platform/LeanFailures.ts"
import type { LeanHost } from "../platform/LeanHost.ts"
import { files } from "../platform/NodeLeanFiles.ts"

/** The body as text, counted as it arrives: past `maxBytes` the stream is cancelled and the read rejects. */
const readBody = async (body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> => {
  if (body === null) return ""
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let text = ""
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return text + decoder.decode()
    size += value.length
    if (size > maxBytes) {
      reader.cancel().catch(() => {})
      throw LeanFailures.tooLarge(LeanFailures.answer, maxBytes)
    }
    text += decoder.decode(value, { stream: true })
  }
}

/** Bun's extension of `RequestInit`: the unix socket to send the request over (declared here: no Bun types). */
interface BunUnixRequestInit extends RequestInit {
  readonly unix: string
}

/**
 * `GET path` on the unix socket with Bun's `fetch`: the status and the body as text, a redirect passed through as its
 * status (never followed). Rejects when the whole answer has not arrived within `timeoutMillis` (the request is
 * aborted) or when the body is larger than `maxBytes` (a `content-length` over it refuses before reading, and the
 * bytes are counted whatever the header says).
 */
const unixGet: LeanHost["unixGet"] = async (socket, path, { headers, timeoutMillis, maxBytes }) => {
  const controller = new AbortController()
  // A timer cleared in every case, not AbortSignal.timeout, whose timer may keep the process alive after the answer
  const timer = setTimeout(() => controller.abort(LeanFailures.noAnswerWithin(timeoutMillis)), timeoutMillis)
  try {
    const init: BunUnixRequestInit = { unix: socket, headers, redirect: "manual", signal: controller.signal }
    const response = await fetch(`http://localhost${path}`, init)
    if (Number(response.headers.get("content-length")) > maxBytes) {
      throw LeanFailures.tooLarge(LeanFailures.answer, maxBytes)
    }
    return { status: response.status, body: await readBody(response.body, maxBytes) }
  } finally {
    clearTimeout(timer)
    // Drops the connection of an answer left unread (refused or cut short); a no-op once the body has been read
    controller.abort()
  }
}

/** Bun's host of the lean `exec-credential` answers. */
export const leanHost: LeanHost = { ...files, unixGet }
