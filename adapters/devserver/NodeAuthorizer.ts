/**
 * kube-apiserver's Node authorizer, for what this server serves: a node (user `system:node:<name>` in group
 * `system:nodes`) may create a token for a service account that a pod scheduled on it runs as. It has no opinion on
 * anything else, and when it does not allow a node's request it says why, for the 403's message.
 *
 * @module
 */
import type { Identity } from "./Auth.ts"
import type { DevState } from "./State.ts"

/** The Node authorizer's answer: allowed, or no opinion with the reason it gives (none for a request not a node's). */
export type Decision = { readonly _tag: "Allow" } | { readonly _tag: "NoOpinion"; readonly reason?: string }

/** The node a request comes from, or `undefined` when the identity is not a node's. */
export const nodeOf = (identity: Identity): string | undefined =>
  identity.groups.includes("system:nodes") && identity.user.startsWith("system:node:")
    ? identity.user.slice("system:node:".length)
    : undefined

/** Whether a node may create a token for service account `namespace/name`: a pod on it must run as that account. */
export const tokenRequest = (state: DevState, identity: Identity, namespace: string, name: string): Decision => {
  const node = nodeOf(identity)
  if (node === undefined) return { _tag: "NoOpinion" }
  const related = state.pods(namespace).some((pod) => pod.nodeName === node && pod.serviceAccountName === name)
  return related
    ? { _tag: "Allow" }
    : { _tag: "NoOpinion", reason: `node: no relationship found between node '${node}' and this object` }
}
