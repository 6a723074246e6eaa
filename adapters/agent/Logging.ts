/**
 * The agent's log output: JSON lines or logfmt-style text on standard error, filtered by level. Every line about a
 * token carries its declared name (`token`), cache key (`cacheKey`) and, once known, the token's `fingerprint`; no
 * line carries a token (tokens are `Redacted` everywhere except in the file sink's write).
 *
 * @module
 */
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
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

/** The configured logger: JSON lines or logfmt text, on standard error. */
export const logger = (log: AgentConfig["log"]): Logger.Logger<unknown, void> =>
  Logger.withConsoleError(log.format === "json" ? Logger.jsonLogger : Logger.logfmtLogger)

/** Makes the configured logger the only one (replacing the runtime's pretty logger too), at the configured level. */
export const layer = (log: AgentConfig["log"]): Layer.Layer<never> =>
  Layer.merge(
    Layer.locallyScoped(FiberRef.currentLoggers, HashSet.make(logger(log))),
    Logger.minimumLogLevel(level(log.level)),
  )
