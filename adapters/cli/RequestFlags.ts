/**
 * The flags that describe a token request, shared by `token` and `exec-credential`, and their validation with
 * `kubectl create token`'s rules and messages: Go durations (`1h`, `90m`, `3600s`; zero omits the field; negative or
 * sub-second values are refused), non-empty audiences, and a bound object of kind `Pod`, `Secret` or `Node` that needs
 * a name. Free of the CLI framework, so that the `exec-credential` cache hit can build its request without loading it.
 *
 * @module
 */
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

/** The kinds a token may be bound to (`apiVersion` is always `v1`). */
export const boundObjectKinds: ReadonlyArray<string> = ["Node", "Pod", "Secret"]

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
