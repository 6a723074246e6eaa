/**
 * The lean paths of `sa-token exec-credential`: the answers given without loading the CLI framework, the kubeconfig
 * loader or a TLS client, from the agent's socket (`ExecCredentialSocketHit.ts`) or the on-disk cache
 * (`ExecCredentialCacheHit.ts`). kubectl runs its exec plugin on every command, so these are the paths it pays for
 * almost every time. They are written in `effect/Micro`, Effect's lightweight runtime, which starts within a few
 * milliseconds of the bare runtime where `effect/Effect` with its fiber runtime and Schema takes several times the
 * runtime's own start on Bun and Deno; they reach the machine through the {@link LeanHost} port, which each runtime
 * implements with its own calls. This module is what they share: how they read the command line ({@link parse}) and
 * how they answer ({@link answer}).
 *
 * Anything a lean path cannot answer, and anything that goes wrong in it, is left to the full command
 * (`ExecCredentialCommand.ts`), which reads the arguments again and answers or reports the error itself: a lean path
 * only ever prints what the full command would have printed, and prints nothing (no log line either) otherwise. So
 * the command line is read strictly: only the command's flags, each at most once (`--audience` repeatable), as
 * `--flag VALUE` or `--flag=VALUE` (`-n VALUE`), with no empty value and no value that starts with `-` or (after `=`)
 * holds another `=`; anything else is left to the full command, which reports what is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict"
 * import * as Option from "effect/Option"
 * import { parse } from "./ExecCredentialLean.ts"
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
import * as Micro from "effect/Micro"
import * as Option from "effect/Option"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as KubeWire from "../kube/KubeWire.ts"
import { LeanHost } from "../platform/LeanHost.ts"
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
  "--socket-owner": "socketOwner",
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
    socketOwner: option("socketOwner"),
    cacheDir: option("cacheDir"),
  }
}

/**
 * Prints the ExecCredential of the token found and succeeds with true; succeeds with false, printing nothing, when none
 * was found or the search failed in any way (the full command then tries, and reports).
 */
export const answer = <E, R>(found: Micro.Micro<Option.Option<TokenRequest>, E, R>): Micro.Micro<boolean, never, R> =>
  found.pipe(
    Micro.flatMap(Option.match({
      onNone: () => Micro.succeed(false),
      onSome: (response) =>
        Micro.sync(() => console.log(KubeWire.renderTokenCredential(response))).pipe(Micro.as(true)),
    })),
    Micro.catchAllCause(() => Micro.succeed(false)),
  )

/**
 * The bin's run of a lean path: reads the command line after `exec-credential` ({@link parse}), searches with `found`
 * on the runtime's {@link LeanHost} and prints the {@link answer}; whether the credential was printed (false for a
 * command line the lean reading does not take, and for any failure). The exit is read rather than trusted to
 * {@link answer}'s handler: Micro's run loop ends the fiber past every handler when code throws synchronously, as a
 * host call refused by the runtime does (Deno's `NotCapable` from `Deno.uid()` without `--allow-sys`).
 */
export const runWith =
  (found: (flags: Flags) => Micro.Micro<Option.Option<TokenRequest>, never, LeanHost>) =>
  async (args: ReadonlyArray<string>, host: LeanHost): Promise<boolean> => {
    const flags = parse(args)
    if (flags === undefined) return false
    const exit = await Micro.runPromiseExit(answer(found(flags)).pipe(Micro.provideService(LeanHost, host)))
    return Micro.exitIsSuccess(exit) && exit.value
  }
