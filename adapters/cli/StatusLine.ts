/**
 * The demo's live status: one line per declared token with its phase, time to expiry, time since the last refresh and
 * fingerprint. Pure formatting of {@link TokenStatus} values; never a token.
 *
 * @module
 */
import type { TokenStatus } from "../agent/AgentState.ts"

const seconds = (millis: number): string => {
  const s = Math.round(millis / 1000)
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : `${s}s`
}

/** One status line: `NAME  PHASE  expires in 42s  refreshed 6s ago  fp 0123456789ab  (3 refreshes)`. */
export const render = (status: TokenStatus, nowMillis: number, nameWidth = 12): string => {
  const expires = status.expiresAt === undefined
    ? "no token yet"
    : status.expiresAt.getTime() >= nowMillis
    ? `expires in ${seconds(status.expiresAt.getTime() - nowMillis)}`
    : `expired ${seconds(nowMillis - status.expiresAt.getTime())} ago`
  const refreshed = status.lastRefresh === undefined
    ? "never refreshed"
    : `refreshed ${seconds(Math.max(0, nowMillis - status.lastRefresh.getTime()))} ago`
  const parts = [
    status.name.padEnd(nameWidth),
    status.phase.padEnd(7),
    expires.padEnd(16),
    refreshed.padEnd(20),
    `fp ${status.fingerprint ?? "-".repeat(12)}`,
    `(${status.refreshes} refreshes, ${status.failures} failures)`,
  ]
  const error = status.lastError !== undefined && status.phase !== "valid" ? `  last error: ${status.lastError}` : ""
  return parts.join("  ") + error
}

/** Every token's line. */
export const renderAll = (statuses: ReadonlyArray<TokenStatus>, nowMillis: number): ReadonlyArray<string> => {
  const width = Math.max(4, ...statuses.map((s) => s.name.length))
  return statuses.map((status) => render(status, nowMillis, width))
}
