/**
 * The development API server's live state: the objects a TokenRequest looks up, the static tokens and the
 * authorization rules. Tests change it while the server runs (recreate a service account with a new UID, delete a
 * pod) through these methods or through the admin API, which calls the same methods.
 *
 * @module
 */
import type { NodeInput, ObjectInput, PodInput, RuleInput, StateInput, StaticTokenInput } from "./StateFile.ts"

/** A stored object (namespaced objects have a namespace, nodes have `""`). */
export interface StoredObject {
  /** The namespace (`""` for nodes). */
  readonly namespace: string
  /** The name. */
  readonly name: string
  /** The UID. */
  readonly uid: string
  /** When it was created. */
  readonly creationTimestamp: Date
  /** The state's revision when it was last written (set by the state). */
  readonly resourceVersion?: number | undefined
}
/** A stored pod. */
export interface StoredPod extends StoredObject {
  /** The service account the pod runs as. */
  readonly serviceAccountName: string
  /** The node the pod is scheduled on. */
  readonly nodeName?: string | undefined
  /** The audiences of its projected token volumes besides the default one (which has none). */
  readonly tokenAudiences: ReadonlyArray<string>
}
/** A stored static token. */
export interface StoredToken {
  /** The user it authenticates as. */
  readonly user: string
  /** The user's UID. */
  readonly uid?: string | undefined
  /** The user's groups. */
  readonly groups: ReadonlyArray<string>
}

/** A change to the state, as a watch reports it. */
export interface StateEvent {
  /** What happened to the object. */
  readonly type: "ADDED" | "MODIFIED" | "DELETED"
  /** `namespaces`, `serviceaccounts`, `pods`, `secrets` or `nodes`. */
  readonly resource: string
  /** The object as it is now (as it was, for DELETED), with the revision of this change. */
  readonly object: StoredObject
}

/** The live state and its mutators. */
export interface DevState {
  /**
   * Calls `listener` on every change until the returned function is called; with `since`, first on the recent changes
   * after that revision (a client watching from a list's `resourceVersion` misses nothing in between).
   */
  readonly watch: (listener: (event: StateEvent) => void, since?: number) => () => void
  /** The revision of the last change: a list's `resourceVersion`. */
  readonly resourceVersion: () => number
  /** The namespace of that name, if it exists. */
  readonly namespace: (name: string) => StoredObject | undefined
  /** Every namespace. */
  readonly namespaces: () => ReadonlyArray<StoredObject>
  /** The service account, if it exists. */
  readonly serviceAccount: (namespace: string, name: string) => StoredObject | undefined
  /** The service accounts of a namespace, or of all. */
  readonly serviceAccounts: (namespace?: string) => ReadonlyArray<StoredObject>
  /** The pod, if it exists. */
  readonly pod: (namespace: string, name: string) => StoredPod | undefined
  /** The pods of a namespace, or of all. */
  readonly pods: (namespace?: string) => ReadonlyArray<StoredPod>
  /** The secret, if it exists. */
  readonly secret: (namespace: string, name: string) => StoredObject | undefined
  /** The secrets of a namespace, or of all. */
  readonly secrets: (namespace?: string) => ReadonlyArray<StoredObject>
  /** The node, if it exists. */
  readonly node: (name: string) => StoredObject | undefined
  /** Every node. */
  readonly nodes: () => ReadonlyArray<StoredObject>
  /** The identity of a static bearer token, if it is one. */
  readonly staticToken: (token: string) => StoredToken | undefined
  /** The extra groups of a user declared in the state (added to what its certificate or static token says). */
  readonly userGroups: (user: string) => ReadonlyArray<string>
  /** Declares a user and its groups (client certificates and static tokens of that user get these groups too). */
  readonly upsertUser: (name: string, groups: ReadonlyArray<string>) => void
  /** The authorization rules. */
  readonly rules: () => ReadonlyArray<RuleInput>
  /** Creates the namespace if needed; returns its UID. */
  readonly upsertNamespace: (name: string, uid?: string) => string
  /** Deletes a namespace; false when there was none. */
  readonly deleteNamespace: (name: string) => boolean
  /** Creates or replaces a service account (a new UID unless given); returns the UID. */
  readonly upsertServiceAccount: (namespace: string, name: string, uid?: string) => string
  /** Deletes a service account; false when there was none. */
  readonly deleteServiceAccount: (namespace: string, name: string) => boolean
  /** Creates or replaces a pod; returns its UID. */
  readonly upsertPod: (pod: PodInput) => string
  /** Deletes a pod; false when there was none. */
  readonly deletePod: (namespace: string, name: string) => boolean
  /** Creates or replaces a secret; returns its UID. */
  readonly upsertSecret: (secret: ObjectInput) => string
  /** Deletes a secret; false when there was none. */
  readonly deleteSecret: (namespace: string, name: string) => boolean
  /** Creates or replaces a node; returns its UID. */
  readonly upsertNode: (node: NodeInput) => string
  /** Deletes a node; false when there was none. */
  readonly deleteNode: (name: string) => boolean
  /** Adds a static bearer token for a user. */
  readonly addStaticToken: (token: string, user: string, groups?: ReadonlyArray<string>, uid?: string) => void
  /** Removes a static bearer token; false when there was none. */
  readonly removeStaticToken: (token: string) => boolean
  /** Adds an authorization rule. */
  readonly addRule: (rule: RuleInput) => void
  /** Removes every authorization rule (then only `system:masters` is allowed). */
  readonly clearRules: () => void
  /** A snapshot in the state-file format (static tokens are left out). */
  readonly snapshot: () => StateInput
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`

/** How many past changes a watch from a revision can be replayed. */
const historySize = 1000

/** Builds a live state from a decoded state file. */
export const make = (input: StateInput, now: () => Date = () => new Date()): DevState => {
  const namespaces = new Map<string, StoredObject>()
  const serviceAccounts = new Map<string, StoredObject>()
  const pods = new Map<string, StoredPod>()
  const secrets = new Map<string, StoredObject>()
  const nodes = new Map<string, StoredObject>()
  const tokens = new Map<string, StoredToken>()
  const users = new Map<string, ReadonlyArray<string>>()
  let rules: Array<RuleInput> = [...(input.rules ?? [])]
  const listeners = new Set<(event: StateEvent) => void>()
  // every write takes the next revision, as etcd's does; the last changes are kept for watches from a revision
  let revision = 0
  const history: Array<StateEvent> = []
  const emit = (type: StateEvent["type"], resource: string, object: StoredObject) => {
    const event = { type, resource, object }
    history.push(event)
    if (history.length > historySize) history.shift()
    for (const listener of listeners) listener(event)
  }
  const versioned = <A extends StoredObject>(o: A): A => ({ ...o, resourceVersion: ++revision })
  /** Stores an object and reports it: a new UID under the same name is a deletion and a creation. */
  const put = <A extends StoredObject>(map: Map<string, A>, k: string, resource: string, object: A): string => {
    const previous = map.get(k)
    if (previous !== undefined && previous.uid !== object.uid) emit("DELETED", resource, versioned(previous))
    const stored = versioned(object)
    map.set(k, stored)
    emit(previous !== undefined && previous.uid === stored.uid ? "MODIFIED" : "ADDED", resource, stored)
    return stored.uid
  }
  const remove = <A extends StoredObject>(map: Map<string, A>, k: string, resource: string): boolean => {
    const previous = map.get(k)
    if (previous === undefined) return false
    map.delete(k)
    emit("DELETED", resource, versioned(previous))
    return true
  }

  const object = (namespace: string, name: string, uid?: string): StoredObject => ({
    namespace,
    name,
    uid: uid ?? globalThis.crypto.randomUUID(),
    creationTimestamp: now(),
  })
  const inNamespace = <A extends StoredObject>(map: Map<string, A>, namespace?: string): ReadonlyArray<A> =>
    [...map.values()].filter((o) => namespace === undefined || o.namespace === namespace)

  const state: DevState = {
    watch: (listener, since) => {
      if (since !== undefined) {
        for (const event of history) if ((event.object.resourceVersion ?? 0) > since) listener(event)
      }
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    resourceVersion: () => revision,
    namespace: (name) => namespaces.get(name),
    namespaces: () => [...namespaces.values()],
    serviceAccount: (namespace, name) => serviceAccounts.get(key(namespace, name)),
    serviceAccounts: (namespace) => inNamespace(serviceAccounts, namespace),
    pod: (namespace, name) => pods.get(key(namespace, name)),
    pods: (namespace) => inNamespace(pods, namespace),
    secret: (namespace, name) => secrets.get(key(namespace, name)),
    secrets: (namespace) => inNamespace(secrets, namespace),
    node: (name) => nodes.get(name),
    nodes: () => [...nodes.values()],
    staticToken: (token) => tokens.get(token),
    userGroups: (user) => users.get(user) ?? [],
    upsertUser: (name, groups) => {
      users.set(name, groups)
    },
    rules: () => rules,
    upsertNamespace: (name, uid) => {
      const existing = namespaces.get(name)
      if (existing !== undefined && (uid === undefined || uid === existing.uid)) return existing.uid
      return put(namespaces, name, "namespaces", object("", name, uid))
    },
    deleteNamespace: (name) => {
      for (
        const [map, resource] of [[serviceAccounts, "serviceaccounts"], [pods, "pods"], [secrets, "secrets"]] as const
      ) {
        for (const [k, o] of map) if (o.namespace === name) remove(map as Map<string, StoredObject>, k, resource)
      }
      return remove(namespaces, name, "namespaces")
    },
    upsertServiceAccount: (namespace, name, uid) => {
      state.upsertNamespace(namespace)
      return put(serviceAccounts, key(namespace, name), "serviceaccounts", object(namespace, name, uid))
    },
    deleteServiceAccount: (namespace, name) => remove(serviceAccounts, key(namespace, name), "serviceaccounts"),
    upsertPod: (pod) => {
      state.upsertNamespace(pod.namespace)
      const stored: StoredPod = {
        ...object(pod.namespace, pod.name, pod.uid),
        serviceAccountName: pod.serviceAccountName,
        nodeName: pod.nodeName,
        tokenAudiences: pod.tokenAudiences ?? [],
      }
      return put(pods, key(pod.namespace, pod.name), "pods", stored)
    },
    deletePod: (namespace, name) => remove(pods, key(namespace, name), "pods"),
    upsertSecret: (secret) => {
      state.upsertNamespace(secret.namespace)
      return put(
        secrets,
        key(secret.namespace, secret.name),
        "secrets",
        object(secret.namespace, secret.name, secret.uid),
      )
    },
    deleteSecret: (namespace, name) => remove(secrets, key(namespace, name), "secrets"),
    upsertNode: (node) => put(nodes, node.name, "nodes", object("", node.name, node.uid)),
    deleteNode: (name) => remove(nodes, name, "nodes"),
    addStaticToken: (token, user, groups = [], uid) => {
      tokens.set(token, { user, groups, uid })
    },
    removeStaticToken: (token) => tokens.delete(token),
    addRule: (rule) => {
      rules = [...rules, rule]
    },
    clearRules: () => {
      rules = []
    },
    snapshot: () => ({
      namespaces: [...namespaces.values()].map(({ name, uid }) => ({ name, uid })),
      serviceAccounts: [...serviceAccounts.values()].map(({ namespace, name, uid }) => ({ namespace, name, uid })),
      pods: [...pods.values()].map(({ namespace, name, uid, serviceAccountName, nodeName, tokenAudiences }) => ({
        namespace,
        name,
        uid,
        serviceAccountName,
        ...(nodeName === undefined ? {} : { nodeName }),
        ...(tokenAudiences.length === 0 ? {} : { tokenAudiences }),
      })),
      secrets: [...secrets.values()].map(({ namespace, name, uid }) => ({ namespace, name, uid })),
      nodes: [...nodes.values()].map(({ name, uid }) => ({ name, uid })),
      users: [...users.entries()].map(([name, groups]) => ({ name, groups })),
      rules,
    }),
  }

  for (const ns of input.namespaces ?? []) {
    if (typeof ns === "string") state.upsertNamespace(ns)
    else state.upsertNamespace(ns.name, ns.uid)
  }
  for (const sa of input.serviceAccounts ?? []) state.upsertServiceAccount(sa.namespace, sa.name, sa.uid)
  for (const pod of input.pods ?? []) state.upsertPod(pod)
  for (const secret of input.secrets ?? []) state.upsertSecret(secret)
  for (const node of input.nodes ?? []) state.upsertNode(node)
  for (const user of input.users ?? []) state.upsertUser(user.name, user.groups ?? [])
  for (const t of input.staticTokens ?? ([] as ReadonlyArray<StaticTokenInput>)) {
    state.addStaticToken(t.token, t.user, t.groups, t.uid)
  }
  return state
}
