/**
 * The documents of the development API server's discovery surface: `/version`, `/api`, `/api/v1`, `/apis`, the groups
 * and group-versions it serves, and the aggregated discovery (`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`) of
 * `/api` and `/apis`, all derived from one table of the resources it serves and shaped as kube-apiserver serves them.
 *
 * @module
 */
import { acceptClauses } from "./Accept.ts"

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

/** A subresource this server serves. */
export interface Subresource {
  readonly name: string
  /** The group, version and kind of its request and response, when they are another API's (TokenRequest). */
  readonly group: string
  readonly version: string
  readonly kind: string
  readonly verbs: ReadonlyArray<string>
}

/** A resource this server serves. */
export interface Resource {
  readonly name: string
  readonly singularName: string
  readonly namespaced: boolean
  readonly kind: string
  readonly verbs: ReadonlyArray<string>
  readonly shortNames?: ReadonlyArray<string>
  readonly categories?: ReadonlyArray<string>
  readonly subresources?: ReadonlyArray<Subresource>
}

/** A group-version this server serves (`""` is the core group). */
export interface GroupVersion {
  readonly group: string
  readonly version: string
  readonly resources: ReadonlyArray<Resource>
}

const reads = ["get", "list", "watch"]
const create = ["create"]

/** What this server serves, in kube-apiserver's order (the core group, then the groups as `/apis` lists them). */
export const served: ReadonlyArray<GroupVersion> = [
  {
    group: "",
    version: "v1",
    resources: [
      {
        name: "namespaces",
        singularName: "namespace",
        namespaced: false,
        kind: "Namespace",
        verbs: reads,
        shortNames: ["ns"],
      },
      { name: "nodes", singularName: "node", namespaced: false, kind: "Node", verbs: reads, shortNames: ["no"] },
      {
        name: "pods",
        singularName: "pod",
        namespaced: true,
        kind: "Pod",
        verbs: reads,
        shortNames: ["po"],
        categories: ["all"],
      },
      { name: "secrets", singularName: "secret", namespaced: true, kind: "Secret", verbs: reads },
      {
        name: "serviceaccounts",
        singularName: "serviceaccount",
        namespaced: true,
        kind: "ServiceAccount",
        verbs: reads,
        shortNames: ["sa"],
        subresources: [
          { name: "token", group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", verbs: create },
        ],
      },
    ],
  },
  {
    group: "authentication.k8s.io",
    version: "v1",
    resources: [
      {
        name: "selfsubjectreviews",
        singularName: "selfsubjectreview",
        namespaced: false,
        kind: "SelfSubjectReview",
        verbs: create,
      },
      { name: "tokenreviews", singularName: "tokenreview", namespaced: false, kind: "TokenReview", verbs: create },
    ],
  },
  {
    group: "authorization.k8s.io",
    version: "v1",
    resources: [
      {
        name: "selfsubjectaccessreviews",
        singularName: "selfsubjectaccessreview",
        namespaced: false,
        kind: "SelfSubjectAccessReview",
        verbs: create,
      },
    ],
  },
]

const groupVersionOf = (gv: GroupVersion): string => gv.group === "" ? gv.version : `${gv.group}/${gv.version}`
const optional = (key: string, list: ReadonlyArray<unknown> | undefined) => list === undefined ? {} : { [key]: list }

/** `GET /api/v1`, `GET /apis/<group>/<version>`: the legacy APIResourceList (subresources as `<resource>/<sub>`). */
export const resourceList = (gv: GroupVersion): Record<string, unknown> => ({
  kind: "APIResourceList",
  ...(gv.group === "" ? {} : { apiVersion: "v1" }),
  groupVersion: groupVersionOf(gv),
  resources: gv.resources.flatMap((r) => [
    {
      name: r.name,
      singularName: r.singularName,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...optional("shortNames", r.shortNames),
      ...optional("categories", r.categories),
    },
    ...(r.subresources ?? []).map((sub) => ({
      name: `${r.name}/${sub.name}`,
      singularName: "",
      namespaced: r.namespaced,
      group: sub.group,
      version: sub.version,
      kind: sub.kind,
      verbs: sub.verbs,
    })),
  ]),
})

const groups = served.filter((gv) => gv.group !== "")

const versionEntry = (gv: GroupVersion) => ({ groupVersion: groupVersionOf(gv), version: gv.version })

const groupEntry = (gv: GroupVersion) => ({
  name: gv.group,
  versions: [versionEntry(gv)],
  preferredVersion: versionEntry(gv),
})

/** `GET /apis/<group>`. */
export const group = (gv: GroupVersion): Record<string, unknown> => ({
  kind: "APIGroup",
  apiVersion: "v1",
  ...groupEntry(gv),
})

/** `GET /apis`: the legacy APIGroupList. */
export const apiGroups: Record<string, unknown> = {
  kind: "APIGroupList",
  apiVersion: "v1",
  groups: groups.map(groupEntry),
}

// --- aggregated discovery -----------------------------------------------------------------------------------------

/** The media type of aggregated discovery in JSON, as kube-apiserver names it in `Content-Type`. */
export const aggregatedMediaType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

/**
 * Whether `Accept` asks for aggregated discovery: its first clause this server can answer (plain JSON, a wildcard, or
 * the `apidiscovery.k8s.io/v2` list in JSON) is the aggregated one. Clauses with parameters rank before plain ones of
 * the same `q`, as in kube-apiserver's negotiation.
 */
export const aggregatedWanted = (accept: string | undefined): boolean => {
  const first = acceptClauses(accept).find((c) =>
    c.type === "application/json" || c.type === "application/*" || c.type === "*/*"
      ? Object.keys(c.params).length === 0 || isAggregated(c.params)
      : false
  )
  return first !== undefined && isAggregated(first.params)
}

const isAggregated = (params: Readonly<Record<string, string>>): boolean =>
  params.g === "apidiscovery.k8s.io" && params.v === "v2" && params.as === "APIGroupDiscoveryList"

const kindRef = (group: string, version: string, kind: string) => ({ group, version, kind })

const discoveryItem = (gv: GroupVersion) => ({
  metadata: gv.group === "" ? {} : { name: gv.group },
  versions: [{
    version: gv.version,
    resources: gv.resources.map((r) => ({
      resource: r.name,
      responseKind: kindRef("", "", r.kind),
      scope: r.namespaced ? "Namespaced" : "Cluster",
      singularResource: r.singularName,
      verbs: r.verbs,
      ...optional("shortNames", r.shortNames),
      ...optional("categories", r.categories),
      ...optional(
        "subresources",
        r.subresources?.map((sub) => ({
          subresource: sub.name,
          responseKind: kindRef(sub.group, sub.version, sub.kind),
          verbs: sub.verbs,
        })),
      ),
    })),
    freshness: "Current",
  }],
})

const discoveryList = (items: ReadonlyArray<GroupVersion>): Record<string, unknown> => ({
  kind: "APIGroupDiscoveryList",
  apiVersion: "apidiscovery.k8s.io/v2",
  metadata: {},
  items: items.map(discoveryItem),
})

const etags = new Map<object, Promise<string>>()

/**
 * The entity tag of an aggregated discovery document, as kube-apiserver makes it: the SHA-512 of the document's JSON in
 * upper-case hex, quoted. Computed once per document.
 */
export const etag = (document: Record<string, unknown>): Promise<string> => {
  let tag = etags.get(document)
  if (tag === undefined) {
    tag = globalThis.crypto.subtle.digest("SHA-512", new TextEncoder().encode(JSON.stringify(document))).then((d) =>
      `"${[...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase()}"`
    )
    etags.set(document, tag)
  }
  return tag
}

/** `GET /api` with aggregated discovery: the core group. */
export const aggregatedApi: Record<string, unknown> = discoveryList(served.filter((gv) => gv.group === ""))

/** `GET /apis` with aggregated discovery: the named groups. */
export const aggregatedApis: Record<string, unknown> = discoveryList(groups)

/** The document of a discovery path of a served group or group-version (`/api/v1`, `/apis/<group>[/<version>]`). */
export const document = (path: string): Record<string, unknown> | undefined => {
  for (const gv of served) {
    if (path === (gv.group === "" ? `/api/${gv.version}` : `/apis/${groupVersionOf(gv)}`)) return resourceList(gv)
    if (gv.group !== "" && path === `/apis/${gv.group}`) return group(gv)
  }
  return undefined
}
