/**
 * Read access to the development API server's objects in their Kubernetes JSON form: namespaces, service accounts,
 * pods, secrets (without data) and nodes, one at a time or as lists.
 *
 * @module
 */
import { formatTime } from "../../core/TokenRequest.ts"
import * as Reply from "./Reply.ts"
import type { DevState, StoredObject, StoredPod } from "./State.ts"

const kinds: Record<string, string> = {
  namespaces: "Namespace",
  serviceaccounts: "ServiceAccount",
  pods: "Pod",
  secrets: "Secret",
  nodes: "Node",
}

/** The kind of a resource's objects (`ServiceAccount` for `serviceaccounts`). */
export const kindOf = (resource: string): string => kinds[resource] ?? ""

const metadata = (o: StoredObject): Record<string, unknown> => ({
  name: o.name,
  ...(o.namespace === "" ? {} : { namespace: o.namespace }),
  uid: o.uid,
  resourceVersion: String(o.resourceVersion ?? 1),
  creationTimestamp: formatTime(o.creationTimestamp),
})

const tokenVolume = (name: string, serviceAccountToken: Record<string, unknown>): Record<string, unknown> => ({
  name,
  projected: { sources: [{ serviceAccountToken }], defaultMode: 420 },
})

/** The JSON of one object. */
export const render = (resource: string, o: StoredObject): Record<string, unknown> => {
  const base = { kind: kinds[resource], apiVersion: "v1", metadata: metadata(o) }
  switch (resource) {
    case "pods": {
      const pod = o as StoredPod
      return {
        ...base,
        spec: {
          // a pod always has containers (clients such as the official Python client require the field)
          containers: [{
            name: "main",
            image: "registry.k8s.io/pause:3.10",
            volumeMounts: [{
              name: "kube-api-access",
              readOnly: true,
              mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
            }],
          }],
          volumes: [
            tokenVolume("kube-api-access", { expirationSeconds: 3607, path: "token" }),
            ...pod.tokenAudiences.map((audience, i) =>
              tokenVolume(`token-${i}`, { audience, expirationSeconds: 3600, path: "token" })
            ),
          ],
          serviceAccountName: pod.serviceAccountName,
          serviceAccount: pod.serviceAccountName,
          ...(pod.nodeName === undefined ? {} : { nodeName: pod.nodeName }),
        },
        status: { phase: pod.nodeName === undefined ? "Pending" : "Running" },
      }
    }
    case "namespaces":
      return {
        ...base,
        // every namespace carries the label kube-apiserver sets from its name
        metadata: { ...base.metadata, labels: { "kubernetes.io/metadata.name": o.name } },
        spec: { finalizers: ["kubernetes"] },
        status: { phase: "Active" },
      }
    case "secrets":
      return { ...base, type: "Opaque" }
    default:
      return base
  }
}

const all = (state: DevState, resource: string, namespace: string | undefined): ReadonlyArray<StoredObject> => {
  switch (resource) {
    case "namespaces":
      return state.namespaces()
    case "serviceaccounts":
      return state.serviceAccounts(namespace)
    case "pods":
      return state.pods(namespace)
    case "secrets":
      return state.secrets(namespace)
    case "nodes":
      return state.nodes()
    default:
      return []
  }
}

const one = (state: DevState, resource: string, namespace: string, name: string): StoredObject | undefined => {
  switch (resource) {
    case "namespaces":
      return state.namespace(name)
    case "serviceaccounts":
      return state.serviceAccount(namespace, name)
    case "pods":
      return state.pod(namespace, name)
    case "secrets":
      return state.secret(namespace, name)
    case "nodes":
      return state.node(name)
    default:
      return undefined
  }
}

const byKey = (a: StoredObject, b: StoredObject): number =>
  a.namespace === b.namespace ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.namespace < b.namespace ? -1 : 1

/** The objects of a resource (in a namespace, or all), in storage order: namespace, then name. */
export const list = (state: DevState, resource: string, namespace?: string): ReadonlyArray<StoredObject> =>
  [...all(state, resource, namespace)].sort(byKey)

/**
 * `GET` of a list (no name) or of one object (404 Status when missing); `only` narrows a list to the object of that
 * name (a `fieldSelector` of `metadata.name=<only>`).
 */
export const read = (
  state: DevState,
  resource: string,
  namespace?: string,
  name?: string,
  only?: string,
): Reply.Reply => {
  if (name !== undefined) {
    const found = one(state, resource, namespace ?? "", name)
    return found === undefined ? Reply.notFound(resource, name) : Reply.json(200, render(resource, found))
  }
  return Reply.json(200, {
    kind: `${kinds[resource]}List`,
    apiVersion: "v1",
    metadata: { resourceVersion: String(state.resourceVersion()) },
    // items in storage order (namespace, then name), without their kind and apiVersion, as a list from etcd
    items: list(state, resource, namespace).filter((o) => only === undefined || o.name === only).map((o) => {
      const { kind: _kind, apiVersion: _apiVersion, ...item } = render(resource, o)
      return item
    }),
  })
}
