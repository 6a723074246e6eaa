/**
 * The flags of the `token` command as `@effect/cli` declarations, with `kubectl create token`'s names, and the check
 * of `-o`. The request flags themselves are checked in `RequestFlags.ts` (re-exported here), which does not load the
 * CLI framework.
 *
 * @module
 */
import * as Args from "@effect/cli/Args"
import * as Options from "@effect/cli/Options"
import type * as Option from "effect/Option"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import type { RequestFlags } from "./RequestFlags.ts"
import { requestFrom } from "./RequestFlags.ts"

export type { RequestFlags } from "./RequestFlags.ts"
export { boundObjectKinds, requestFrom } from "./RequestFlags.ts"

/** The parsed command line of `token`. */
export interface TokenFlags extends RequestFlags {
  readonly output: string
}

const optionalText = (name: string, description: string): Options.Options<Option.Option<string>> =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)

/** The `@effect/cli` declarations of {@link RequestFlags}, with kubectl create token's names. */
export const requestOptions: {
  readonly serviceAccount: Args.Args<Option.Option<string>>
  readonly namespace: Options.Options<Option.Option<string>>
  readonly audience: Options.Options<Array<string>>
  readonly duration: Options.Options<Option.Option<string>>
  readonly boundObjectKind: Options.Options<Option.Option<string>>
  readonly boundObjectName: Options.Options<Option.Option<string>>
  readonly boundObjectUid: Options.Options<Option.Option<string>>
  readonly kubeconfig: Options.Options<Option.Option<string>>
  readonly context: Options.Options<Option.Option<string>>
} = {
  serviceAccount: Args.text({ name: "SERVICE_ACCOUNT" }).pipe(Args.optional),
  namespace: optionalText("namespace", "the namespace (default: the kubeconfig context's)").pipe(
    Options.withAlias("n"),
  ),
  audience: Options.text("audience").pipe(
    Options.withDescription("an intended audience of the token (repeatable; default: the API server's)"),
    Options.repeated,
  ),
  duration: optionalText("duration", "the requested lifetime, such as 1h or 10m (the server may shorten it)"),
  boundObjectKind: optionalText("bound-object-kind", "bind the token to an object: Pod, Secret or Node"),
  boundObjectName: optionalText("bound-object-name", "the name of the object to bind the token to"),
  boundObjectUid: optionalText("bound-object-uid", "the UID of the object to bind the token to"),
  kubeconfig: optionalText("kubeconfig", "the kubeconfig file (default: KUBECONFIG, then ~/.kube/config)"),
  context: optionalText("context", "the kubeconfig context to use"),
}

/** The output formats of `-o`. */
export type Output = "token" | "json" | "exec-credential"

/** The outputs accepted by `-o`. */
export const outputs: ReadonlyArray<Output> = ["token", "json", "exec-credential"]

/** What the flags ask for, once valid. The namespace is resolved later (it may come from kubeconfig). */
export interface Validated {
  readonly name: string
  readonly request: TokenRequest
  readonly output: Output
}

/** Validates the flags as `kubectl create token` does; returns the first problem's message or what was asked. */
export const validate = (flags: TokenFlags): { readonly error: string } | Validated => {
  const name = flags.serviceAccount._tag === "Some" ? flags.serviceAccount.value : ""
  if (name === "") return { error: "service account name is required" }
  const built = requestFrom(flags)
  if ("error" in built) return built
  if (!(outputs as ReadonlyArray<string>).includes(flags.output)) {
    return {
      error: `unable to match a printer suitable for the output format ${
        JSON.stringify(flags.output)
      }, allowed formats are: ${outputs.join(",")}`,
    }
  }
  return { name, output: flags.output as Output, request: built.request }
}
