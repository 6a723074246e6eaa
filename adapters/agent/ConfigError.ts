/**
 * The error of a configuration that cannot be used: the file is missing or unreadable, its syntax is broken, or a
 * field is wrong. The message names the file and, for each problem, the field path and what is wrong; it never
 * repeats a field's value, so a bearer token in a broken config cannot leak through it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import { ConfigError } from "@sa-token/manager/agent"
 *
 * const error = new ConfigError.ConfigError({
 *   reason: "Invalid",
 *   file: "/etc/sa-token/agent.yaml",
 *   issues: [{ path: "tokens[0].file.mode", message: "must be octal such as \"0600\" or \"640\"" }],
 * })
 * assert.equal(error.message, 'invalid config /etc/sa-token/agent.yaml: tokens[0].file.mode: must be octal such as "0600" or "640"')
 * ```
 *
 * @module
 */
import type * as Cause from "effect/Cause"
import * as Data from "effect/Data"

/** Why a configuration was refused. */
export type ConfigErrorReason = "NotFound" | "Read" | "Syntax" | "Invalid"

/** One problem at one field. */
export interface ConfigIssue {
  /** The field path, such as `tokens[0].file.mode` (empty for the whole document). */
  readonly path: string
  /** What is wrong. */
  readonly message: string
}

/** The fields of a {@link ConfigError}. */
export interface ConfigErrorFields {
  /** What kind of problem it is. */
  readonly reason: ConfigErrorReason
  /** The configuration file. */
  readonly file: string
  /** The problems found (at least one). */
  readonly issues: ReadonlyArray<ConfigIssue>
}

const ConfigErrorBase: new (args: ConfigErrorFields) => Cause.YieldableError & ConfigErrorFields = Data.Error

/** A configuration that cannot be used. The CLI exits with code 2 on it. */
export class ConfigError extends ConfigErrorBase {
  /** The tag, for `Effect.catchTag`. */
  readonly _tag = "ConfigError" as const
  /** `invalid config FILE: PATH: PROBLEM; …`. */
  override get message(): string {
    const what = this.reason === "NotFound"
      ? "config file not found"
      : this.reason === "Read"
      ? "cannot read config"
      : this.reason === "Syntax"
      ? "cannot parse config"
      : "invalid config"
    const issues = this.issues.map((issue) => issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`)
    return `${what} ${this.file}: ${issues.join("; ")}`
  }
}

/** Renders a Schema issue path as `tokens[0].file.mode`. */
export const renderPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((segment, i) =>
    typeof segment === "number" ? `[${segment}]` : i === 0 ? String(segment) : `.${String(segment)}`
  ).join("")
