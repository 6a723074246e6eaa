/**
 * How the lean `exec-credential` paths read their command line (the arguments after `exec-credential`): strictly, so
 * that they only ever act on a command line the full command (`@effect/cli`) reads the same way. Only the command's
 * flags, each at most once (`--audience` repeatable), as `--flag VALUE` or `--flag=VALUE` (`-n VALUE`), with no empty
 * value and no value that starts with `-` or (after `=`) holds another `=`; anything else is undefined, and the bin
 * then runs the full command, which reports what is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as Option from "effect/Option"
 * import { parse } from "./ExecCredentialArgs.ts"
 *
 * const flags = parse(["builder", "-n", "apps", "--kubeconfig=/home/me/.kube/config"])
 * assert.ok(flags !== undefined)
 * assert.deepEqual(flags.serviceAccount, Option.some("builder"))
 * assert.deepEqual(flags.namespace, Option.some("apps"))
 * assert.equal(parse(["builder", "--log-level", "debug"]), undefined)
 * ```
 *
 * @module
 */
import * as Option from "effect/Option"
import type { Flags } from "./ExecCredentialCommand.ts"

type Single = Exclude<keyof Flags, "audience" | "serviceAccount">

/** The flags this path reads, by spelling; `--audience` is the repeatable one. */
const spellings: Readonly<Record<string, Single | "audience">> = {
  "--namespace": "namespace",
  "-n": "namespace",
  "--audience": "audience",
  "--duration": "duration",
  "--bound-object-kind": "boundObjectKind",
  "--bound-object-name": "boundObjectName",
  "--bound-object-uid": "boundObjectUid",
  "--kubeconfig": "kubeconfig",
  "--context": "context",
  "--name": "name",
  "--socket": "socket",
  "--config": "config",
  "--cache-dir": "cacheDir",
}

/** The flags of an `exec-credential` command line, or undefined when it is not one read exactly as the full command does. */
export const parse = (args: ReadonlyArray<string>): Flags | undefined => {
  const single: Partial<Record<Single, string>> = {}
  const audience: Array<string> = []
  let serviceAccount: string | undefined
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "") return undefined
    if (!arg.startsWith("-")) {
      if (serviceAccount !== undefined) return undefined
      serviceAccount = arg
      continue
    }
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1
    const spelling = equals < 0 ? arg : arg.slice(0, equals)
    const value = equals < 0 ? args[++i] : arg.slice(equals + 1)
    const field = Object.hasOwn(spellings, spelling) ? spellings[spelling] : undefined
    if (field === undefined || value === undefined || value === "" || value.startsWith("-")) return undefined
    if (equals >= 0 && value.includes("=")) return undefined
    if (field === "audience") audience.push(value)
    else if (single[field] !== undefined) return undefined
    else single[field] = value
  }
  const option = (field: Single) => Option.fromNullable(single[field])
  return {
    serviceAccount: Option.fromNullable(serviceAccount),
    namespace: option("namespace"),
    audience,
    duration: option("duration"),
    boundObjectKind: option("boundObjectKind"),
    boundObjectName: option("boundObjectName"),
    boundObjectUid: option("boundObjectUid"),
    kubeconfig: option("kubeconfig"),
    context: option("context"),
    name: option("name"),
    socket: option("socket"),
    config: option("config"),
    cacheDir: option("cacheDir"),
  }
}
