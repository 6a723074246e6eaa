/**
 * The flags of the `token` command and their validation, with `kubectl create token`'s rules and messages: Go
 * durations (`1h`, `90m`, `3600s`; zero omits the field; negative or sub-second values are refused), non-empty
 * audiences, and a bound object of kind `Pod`, `Secret` or `Node` that needs a name.
 *
 * @module
 */
import * as Args from "@effect/cli/Args"
import * as Options from "@effect/cli/Options"
import type * as Option from "effect/Option"
import type { TokenRequest } from "../../core/TokenRequest.ts"
import * as KubeWire from "../kube/KubeWire.ts"

/** The flags that describe a token request, shared by `token` and `exec-credential`. */
export interface RequestFlags {
  readonly serviceAccount: Option.Option<string>
  readonly namespace: Option.Option<string>
  readonly audience: Array<string>
  readonly duration: Option.Option<string>
  readonly boundObjectKind: Option.Option<string>
  readonly boundObjectName: Option.Option<string>
  readonly boundObjectUid: Option.Option<string>
  readonly kubeconfig: Option.Option<string>
  readonly context: Option.Option<string>
}

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

/** The kinds a token may be bound to (`apiVersion` is always `v1`). */
export const boundObjectKinds: ReadonlyArray<string> = ["Node", "Pod", "Secret"]

/** What the flags ask for, once valid. The namespace is resolved later (it may come from kubeconfig). */
export interface Validated {
  readonly name: string
  readonly request: TokenRequest
  readonly output: Output
}

const second = 1_000_000_000n

/**
 * Checks the request flags as `kubectl create token` does (duration, audiences, bound object) and builds the
 * TokenRequest; the service-account name and the output format are checked by the caller.
 */
export const requestFrom = (flags: RequestFlags): { readonly error: string } | { readonly request: TokenRequest } => {
  let nanos = 0n
  if (flags.duration._tag === "Some") {
    const parsed = KubeWire.parseGoDuration(flags.duration.value)
    if (parsed === undefined) {
      const quoted = JSON.stringify(flags.duration.value)
      return { error: `invalid argument ${quoted} for "--duration" flag: time: invalid duration ${quoted}` }
    }
    nanos = parsed
  }
  if (nanos < 0n) return { error: "--duration must be greater than or equal to 0" }
  if (nanos % second !== 0n) return { error: "--duration cannot be expressed in units less than seconds" }
  if (flags.audience.some((a) => a === "")) return { error: "--audience must not be an empty string" }
  const kind = flags.boundObjectKind._tag === "Some" ? flags.boundObjectKind.value : ""
  const objectName = flags.boundObjectName._tag === "Some" ? flags.boundObjectName.value : ""
  const uid = flags.boundObjectUid._tag === "Some" ? flags.boundObjectUid.value : ""
  if (kind === "") {
    if (objectName !== "") return { error: "--bound-object-name can only be set if --bound-object-kind is provided" }
    if (uid !== "") return { error: "--bound-object-uid can only be set if --bound-object-kind is provided" }
  } else {
    if (!boundObjectKinds.includes(kind)) {
      return { error: `supported --bound-object-kind values are ${boundObjectKinds.join(", ")}` }
    }
    if (objectName === "") return { error: "--bound-object-name is required if --bound-object-kind is provided" }
  }
  const seconds = Number(nanos / second)
  return {
    request: {
      spec: {
        ...(flags.audience.length > 0 ? { audiences: flags.audience } : {}),
        ...(seconds > 0 ? { expirationSeconds: seconds } : {}),
        ...(kind !== ""
          ? { boundObjectRef: { kind, apiVersion: "v1", name: objectName, ...(uid !== "" ? { uid } : {}) } }
          : {}),
      },
    },
  }
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
