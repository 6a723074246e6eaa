/**
 * The error of a configuration that cannot be used: the file is missing or unreadable, its syntax is broken, or a
 * field is wrong. The message names the file and, for each problem, the field path and what is wrong; it never
 * repeats a field's value, so a bearer token in a broken config cannot leak through it. It is bounded whatever the
 * file holds: at most {@link maxIssuesShown} problems are listed, and text taken from the file (keys in a path) or
 * from the caller is cut at {@link maxEchoLength} characters, with control and bidirectional characters escaped.
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
import * as ErrorBase from "../../core/ErrorBase.ts"

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

/** The longest piece of text from outside (a key, a file name) repeated in a message, in characters. */
export const maxEchoLength = 100

/** The most problems listed in a message; the rest are counted. */
export const maxIssuesShown = 20

/** The longest description of one problem in a message, in characters. */
const maxIssueLength = 300

/**
 * Makes text from outside safe to repeat: control and bidirectional-override characters escaped (no terminal escape
 * sequences or reordered lines), then cut at `max` characters with an ellipsis.
 */
export const bounded = (text: string, max: number = maxEchoLength): string => {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text
  return cut.replace(
    // deno-lint-ignore no-control-regex -- matching control characters is the point
    /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  )
}

/** `invalid config FILE: PATH: PROBLEM; …` (bounded: see the module's description). */
const render = (e: ConfigErrorFields): string => {
  const what = e.reason === "NotFound"
    ? "config file not found"
    : e.reason === "Read"
    ? "cannot read config"
    : e.reason === "Syntax"
    ? "cannot parse config"
    : "invalid config"
  const issues = e.issues.slice(0, maxIssuesShown).map((issue) => {
    const message = bounded(issue.message, maxIssueLength)
    return issue.path === "" ? message : `${bounded(issue.path, maxIssueLength)}: ${message}`
  })
  const more = e.issues.length - maxIssuesShown
  if (more > 0) issues.push(`and ${more} more`)
  return `${what} ${bounded(e.file, 2 * maxEchoLength)}: ${issues.join("; ")}`
}

const ConfigErrorBase: ErrorBase.Constructor<"ConfigError", ConfigErrorFields> = ErrorBase.make("ConfigError", render)

/** A configuration that cannot be used. The CLI exits with code 2 on it. */
export class ConfigError extends ConfigErrorBase {}

/** Renders a Schema issue path as `tokens[0].file.mode`; each key is {@link bounded} (it comes from the file). */
export const renderPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((segment, i) =>
    typeof segment === "number" ? `[${segment}]` : `${i === 0 ? "" : "."}${bounded(String(segment))}`
  ).join("")
