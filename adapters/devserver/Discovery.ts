/**
 * The documents of the development API server's discovery surface: `/version`, `/api`, `/api/v1`, `/apis`,
 * `/apis/authentication.k8s.io/v1`, `/apis/authorization.k8s.io/v1`, shaped as kube-apiserver serves them for the
 * resources this server has.
 *
 * @module
 */

/** The Kubernetes version this server imitates. */
export const version: Record<string, string> = {
  major: "1",
  minor: "34",
  emulationMajor: "1",
  emulationMinor: "34",
  minCompatibilityMajor: "1",
  minCompatibilityMinor: "33",
  gitVersion: "v1.34.0-devserver",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.24.0",
  compiler: "gc",
  platform: "linux/amd64",
}

/** `GET /api`. */
export const apiVersions = (serverAddress: string): Record<string, unknown> => ({
  kind: "APIVersions",
  versions: ["v1"],
  serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
})

const resource = (
  name: string,
  singularName: string,
  namespaced: boolean,
  kind: string,
  verbs: ReadonlyArray<string>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({ name, singularName, namespaced, kind, verbs, ...extra })

/** `GET /api/v1`: the core resources this server serves, `serviceaccounts/token` among them. */
export const coreV1: Record<string, unknown> = {
  kind: "APIResourceList",
  groupVersion: "v1",
  resources: [
    resource("namespaces", "namespace", false, "Namespace", ["get", "list"], { shortNames: ["ns"] }),
    resource("nodes", "node", false, "Node", ["get", "list"], { shortNames: ["no"] }),
    resource("pods", "pod", true, "Pod", ["get", "list"], { shortNames: ["po"], categories: ["all"] }),
    resource("secrets", "secret", true, "Secret", ["get", "list"]),
    resource("serviceaccounts", "serviceaccount", true, "ServiceAccount", ["get", "list"], { shortNames: ["sa"] }),
    {
      name: "serviceaccounts/token",
      singularName: "",
      namespaced: true,
      group: "authentication.k8s.io",
      version: "v1",
      kind: "TokenRequest",
      verbs: ["create"],
    },
  ],
}

const authenticationGroupVersion = { groupVersion: "authentication.k8s.io/v1", version: "v1" }
const authorizationGroupVersion = { groupVersion: "authorization.k8s.io/v1", version: "v1" }

/** `GET /apis`. */
export const apiGroups: Record<string, unknown> = {
  kind: "APIGroupList",
  apiVersion: "v1",
  groups: [
    {
      name: "authentication.k8s.io",
      versions: [authenticationGroupVersion],
      preferredVersion: authenticationGroupVersion,
    },
    {
      name: "authorization.k8s.io",
      versions: [authorizationGroupVersion],
      preferredVersion: authorizationGroupVersion,
    },
  ],
}

/** `GET /apis/authorization.k8s.io`. */
export const authorizationGroup: Record<string, unknown> = {
  kind: "APIGroup",
  apiVersion: "v1",
  name: "authorization.k8s.io",
  versions: [authorizationGroupVersion],
  preferredVersion: authorizationGroupVersion,
}

/** `GET /apis/authorization.k8s.io/v1`: the access review this server answers. */
export const authorizationV1: Record<string, unknown> = {
  kind: "APIResourceList",
  apiVersion: "v1",
  groupVersion: "authorization.k8s.io/v1",
  resources: [
    resource("selfsubjectaccessreviews", "selfsubjectaccessreview", false, "SelfSubjectAccessReview", ["create"]),
  ],
}

/** `GET /apis/authentication.k8s.io`. */
export const authenticationGroup: Record<string, unknown> = {
  kind: "APIGroup",
  apiVersion: "v1",
  name: "authentication.k8s.io",
  versions: [authenticationGroupVersion],
  preferredVersion: authenticationGroupVersion,
}

/** `GET /apis/authentication.k8s.io/v1`. */
export const authenticationV1: Record<string, unknown> = {
  kind: "APIResourceList",
  apiVersion: "v1",
  groupVersion: "authentication.k8s.io/v1",
  resources: [
    resource("selfsubjectreviews", "selfsubjectreview", false, "SelfSubjectReview", ["create"]),
    resource("tokenreviews", "tokenreview", false, "TokenReview", ["create"]),
  ],
}
