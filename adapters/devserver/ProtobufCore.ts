/**
 * The protobuf messages of the core objects this server serves (ServiceAccount, Namespace, Secret, Node, Pod and their
 * lists) and of the discovery documents (`APIVersions`, `APIGroupList`, `APIGroup`, `APIResourceList`), with the
 * field numbers of Kubernetes' `core/v1` and `meta/v1` `generated.proto`. Only the fields this server writes or a
 * client needs are named; a Go value field is written even when zero, so a Node without a status still carries the
 * empty status a real one does.
 *
 * @module
 */
import type { Message } from "./Protobuf.ts"
import { f, listMeta, message, objectMeta } from "./ProtobufMeta.ts"

/** A list kind: metadata = 1 (ListMeta), items = 2. */
const list = (name: string, item: Message): Message =>
  message(name, f(1, "metadata", listMeta), f(2, "items", item, "repeated"))

const objectReference = message(
  "ObjectReference",
  f(1, "kind"),
  f(2, "namespace"),
  f(3, "name"),
  f(4, "uid"),
  f(5, "apiVersion"),
  f(6, "resourceVersion"),
  f(7, "fieldPath"),
)

/** `core/v1` ServiceAccount. */
export const serviceAccount: Message = message(
  "ServiceAccount",
  f(1, "metadata", objectMeta),
  f(2, "secrets", objectReference, "repeated"),
  f(3, "imagePullSecrets", message("LocalObjectReference", f(1, "name")), "repeated"),
  f(4, "automountServiceAccountToken", "bool", "optional"),
)

/** `core/v1` Namespace. */
export const namespace: Message = message(
  "Namespace",
  f(1, "metadata", objectMeta),
  f(2, "spec", message("NamespaceSpec", f(1, "finalizers", "string", "repeated"))),
  f(
    3,
    "status",
    message(
      "NamespaceStatus",
      f(1, "phase"),
      f(
        2,
        "conditions",
        message(
          "NamespaceCondition",
          f(1, "type"),
          f(2, "status"),
          f(4, "lastTransitionTime", "time"),
          f(5, "reason"),
          f(6, "message"),
        ),
        "repeated",
      ),
    ),
  ),
)

/** `core/v1` Secret. */
export const secret: Message = message(
  "Secret",
  f(1, "metadata", objectMeta),
  f(2, "data", "bytes", "map"),
  f(3, "type"),
  f(4, "stringData", "string", "map"),
  f(5, "immutable", "bool", "optional"),
)

const nodeSystemInfo = message(
  "NodeSystemInfo",
  ...[
    "machineID",
    "systemUUID",
    "bootID",
    "kernelVersion",
    "osImage",
    "containerRuntimeVersion",
    "kubeletVersion",
    "kubeProxyVersion",
    "operatingSystem",
    "architecture",
  ].map((name, i) => f(i + 1, name)),
)

/** `core/v1` Node (the parts of its spec and status this server's nodes can have, and every Go value field). */
export const node: Message = message(
  "Node",
  f(1, "metadata", objectMeta),
  f(
    2,
    "spec",
    message(
      "NodeSpec",
      f(1, "podCIDR"),
      f(2, "externalID"),
      f(3, "providerID"),
      f(4, "unschedulable", "bool"),
      f(5, "taints", message("Taint", f(1, "key"), f(2, "value"), f(3, "effect")), "repeated"),
      f(7, "podCIDRs", "string", "repeated"),
    ),
  ),
  f(
    3,
    "status",
    message(
      "NodeStatus",
      f(3, "phase"),
      f(5, "addresses", message("NodeAddress", f(1, "type"), f(2, "address")), "repeated"),
      f(
        6,
        "daemonEndpoints",
        message(
          "NodeDaemonEndpoints",
          f(1, "kubeletEndpoint", message("DaemonEndpoint", f(1, "Port", "int32"))),
        ),
      ),
      f(7, "nodeInfo", nodeSystemInfo),
    ),
  ),
)

const container = message(
  "Container",
  f(1, "name"),
  f(2, "image"),
  f(5, "workingDir"),
  f(8, "resources", message("ResourceRequirements")),
  f(
    9,
    "volumeMounts",
    message(
      "VolumeMount",
      f(1, "name"),
      f(2, "readOnly", "bool"),
      f(3, "mountPath"),
      f(4, "subPath"),
      f(5, "mountPropagation", "string", "optional"),
      f(6, "subPathExpr"),
      f(7, "recursiveReadOnly", "string", "optional"),
    ),
    "repeated",
  ),
  f(13, "terminationMessagePath"),
  f(14, "imagePullPolicy"),
  f(16, "stdin", "bool"),
  f(17, "stdinOnce", "bool"),
  f(18, "tty", "bool"),
  f(20, "terminationMessagePolicy"),
)

const serviceAccountTokenProjection = message(
  "ServiceAccountTokenProjection",
  f(1, "audience"),
  f(2, "expirationSeconds", "int64", "optional"),
  f(3, "path"),
)

const projectedVolumeSource = message(
  "ProjectedVolumeSource",
  f(
    1,
    "sources",
    message("VolumeProjection", f(4, "serviceAccountToken", serviceAccountTokenProjection, "optional")),
    "repeated",
  ),
  f(2, "defaultMode", "int32", "optional"),
)

const volume = message(
  "Volume",
  f(1, "name"),
  f(2, "volumeSource", message("VolumeSource", f(26, "projected", projectedVolumeSource, "optional")), "inline"),
)

/** `core/v1` Pod (the volumes, containers and status this server's pods have, and every Go value field). */
export const pod: Message = message(
  "Pod",
  f(1, "metadata", objectMeta),
  f(
    2,
    "spec",
    message(
      "PodSpec",
      f(1, "volumes", volume, "repeated"),
      f(2, "containers", container, "repeated"),
      f(3, "restartPolicy"),
      f(6, "dnsPolicy"),
      f(8, "serviceAccountName"),
      f(9, "serviceAccount"),
      f(10, "nodeName"),
      f(11, "hostNetwork", "bool"),
      f(12, "hostPID", "bool"),
      f(13, "hostIPC", "bool"),
      f(16, "hostname"),
      f(17, "subdomain"),
      f(19, "schedulerName"),
      f(24, "priorityClassName"),
    ),
  ),
  f(
    3,
    "status",
    message(
      "PodStatus",
      f(1, "phase"),
      f(3, "message"),
      f(4, "reason"),
      f(5, "hostIP"),
      f(6, "podIP"),
      f(9, "qosClass"),
      f(11, "nominatedNodeName"),
      f(14, "resize"),
      f(17, "observedGeneration", "int64"),
    ),
  ),
)

const groupVersion = message("GroupVersionForDiscovery", f(1, "groupVersion"), f(2, "version"))
const serverAddress = message("ServerAddressByClientCIDR", f(1, "clientCIDR"), f(2, "serverAddress"))
const apiGroup = message(
  "APIGroup",
  f(1, "name"),
  f(2, "versions", groupVersion, "repeated"),
  f(3, "preferredVersion", groupVersion),
  f(4, "serverAddressByClientCIDRs", serverAddress, "repeated"),
)

/** The kinds of this file by name. */
export const byKind: Readonly<Record<string, Message>> = {
  ServiceAccount: serviceAccount,
  ServiceAccountList: list("ServiceAccountList", serviceAccount),
  Namespace: namespace,
  NamespaceList: list("NamespaceList", namespace),
  Secret: secret,
  SecretList: list("SecretList", secret),
  Node: node,
  NodeList: list("NodeList", node),
  Pod: pod,
  PodList: list("PodList", pod),
  APIVersions: message(
    "APIVersions",
    f(1, "versions", "string", "repeated"),
    f(2, "serverAddressByClientCIDRs", serverAddress, "repeated"),
  ),
  APIGroupList: message("APIGroupList", f(1, "groups", apiGroup, "repeated")),
  APIGroup: apiGroup,
  APIResourceList: message(
    "APIResourceList",
    f(1, "groupVersion"),
    f(
      2,
      "resources",
      message(
        "APIResource",
        f(1, "name"),
        f(2, "namespaced", "bool"),
        f(3, "kind"),
        f(4, "verbs", { name: "Verbs", fields: [f(1, "items", "string", "repeated")], wrapped: true }),
        f(5, "shortNames", "string", "repeated"),
        f(6, "singularName"),
        f(7, "categories", "string", "repeated"),
        f(8, "group"),
        f(9, "version"),
        f(10, "storageVersionHash"),
      ),
      "repeated",
    ),
  ),
}
