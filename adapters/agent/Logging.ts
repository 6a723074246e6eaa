/**
 * The agent's log output: JSON lines or logfmt-style text on standard error, filtered by level. Every line about a
 * token carries its declared name (`token`), cache key (`cacheKey`) and, once known, the token's `fingerprint`; no
 * line carries a token (tokens are `Redacted` everywhere except in the file sink's write).
 *
 * @module
 */
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import type { AgentConfig } from "./Config.ts"

const levels: Record<AgentConfig["log"]["level"], LogLevel.LogLevel> = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
}

/** The log level of a config value. */
export const level = (value: AgentConfig["log"]["level"]): LogLevel.LogLevel => levels[value]

/** Replaces the default logger with the configured format and minimum level. */
export const layer = (log: AgentConfig["log"]): Layer.Layer<never> =>
  Layer.merge(
    Logger.replace(
      Logger.defaultLogger,
      Logger.withConsoleError(log.format === "json" ? Logger.jsonLogger : Logger.logfmtLogger),
    ),
    Logger.minimumLogLevel(level(log.level)),
  )
