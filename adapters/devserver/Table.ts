/**
 * Server-side printing: a `meta.k8s.io/v1` Table of the objects a `get` returns, when the client asks for one in its
 * `Accept` header (`application/json;as=Table;v=v1;g=meta.k8s.io`, as kubectl does), with kube-apiserver's columns
 * for namespaces, service accounts, pods, secrets and nodes, ages as Go's `HumanDuration` renders them, and each row's
 * object as `PartialObjectMetadata`.
 *
 * @module
 */

/** A column of a Table. */
export interface Column {
  readonly name: string
  readonly type: string
  readonly format: string
  readonly description: string
  readonly priority: number
}

const column = (name: string, description: string, priority = 0, format = ""): Column => ({
  name,
  type: "string",
  format,
  description,
  priority,
})

const nameColumn = column(
  "Name",
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
  0,
  "name",
)
const ageColumn = column(
  "Age",
  "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
)
const addresses =
  "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP)."

/** The columns kube-apiserver prints for each resource. */
export const columns: Readonly<Record<string, ReadonlyArray<Column>>> = {
  namespaces: [nameColumn, column("Status", "The status of the namespace"), ageColumn],
  serviceaccounts: [nameColumn, ageColumn],
  secrets: [
    nameColumn,
    column(
      "Type",
      "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
    ),
    column(
      "Data",
      "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
    ),
    ageColumn,
  ],
  pods: [
    nameColumn,
    column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    column("Status", "The aggregate status of the containers in this pod."),
    column(
      "Restarts",
      "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    ageColumn,
    column(
      "IP",
      "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
      1,
    ),
    column(
      "Node",
      "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
      1,
    ),
    column(
      "Nominated Node",
      "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
      1,
    ),
    column(
      "Readiness Gates",
      'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
      1,
    ),
  ],
  nodes: [
    nameColumn,
    column("Status", "The status of the node"),
    column("Roles", "The roles of the node"),
    ageColumn,
    column("Version", "Kubelet Version reported by the node."),
    column("Internal-IP", addresses, 1),
    column("External-IP", addresses, 1),
    column("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
    column("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
    column(
      "Container-Runtime",
      "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
      1,
    ),
  ],
}

/** Go's `duration.HumanDuration`: `45s`, `3m20s`, `42m`, `5h10m`, `12h`, `3d4h`, `120d`, `2y30d`, `9y`. */
export const humanDuration = (millis: number): string => {
  const seconds = Math.trunc(millis / 1000)
  if (seconds < -1) return "<invalid>"
  if (seconds < 0) return "0s"
  if (seconds < 120) return `${seconds}s`
  const minutes = Math.trunc(seconds / 60)
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`
  if (minutes < 180) return `${minutes}m`
  const hours = Math.trunc(minutes / 60)
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`
  if (hours < 48) return `${hours}h`
  const days = Math.trunc(hours / 24)
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`
  if (hours < 24 * 365 * 2) return `${days}d`
  const years = Math.trunc(days / 365)
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`
  return `${years}y`
}

/** Whether the `Accept` header asks for a Table. */
export const wanted = (accept: string | undefined): boolean =>
  accept !== undefined && accept.split(",").some((part) => {
    const params = part.split(";").map((p) => p.trim())
    return params.includes("as=Table") && params.includes("g=meta.k8s.io")
  })

type Json = Record<string, unknown>

const cellsOf = (resource: string, o: Json, now: Date): ReadonlyArray<string> => {
  const metadata = o.metadata as Json
  const age = humanDuration(now.getTime() - Date.parse(String(metadata.creationTimestamp)))
  const name = String(metadata.name)
  switch (resource) {
    case "namespaces":
      return [name, String((o.status as Json | undefined)?.phase ?? "Active"), age]
    case "secrets":
      return [name, String(o.type ?? "Opaque"), String(Object.keys((o.data as Json | undefined) ?? {}).length), age]
    case "pods": {
      const spec = o.spec as Json
      const phase = String((o.status as Json | undefined)?.phase ?? "Pending")
      const containers = (spec.containers as ReadonlyArray<unknown> | undefined)?.length ?? 0
      return [
        name,
        `${phase === "Running" ? containers : 0}/${containers}`,
        phase,
        "0",
        age,
        "<none>",
        typeof spec.nodeName === "string" ? spec.nodeName : "<none>",
        "<none>",
        "<none>",
      ]
    }
    case "nodes":
      return [name, "Unknown", "<none>", age, "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"]
    default:
      return [name, age]
  }
}

/** One row: the cells and the object's metadata. */
export const row = (resource: string, o: Json, now: Date): Json => ({
  cells: cellsOf(resource, o, now),
  object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
})

/**
 * A Table of objects (one object for a `get` by name) at a `resourceVersion` (a list's, or a watch event's object's);
 * `headers: false` leaves the columns out (later watch events).
 */
export const table = (
  resource: string,
  objects: ReadonlyArray<Json>,
  now: Date,
  resourceVersion: string,
  headers = true,
): Json => ({
  kind: "Table",
  apiVersion: "meta.k8s.io/v1",
  metadata: { resourceVersion },
  ...(headers ? { columnDefinitions: columns[resource] ?? [nameColumn, ageColumn] } : {}),
  rows: objects.map((o) => row(resource, o, now)),
})
