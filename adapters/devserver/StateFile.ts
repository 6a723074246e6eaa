/**
 * The development API server's state as it is written in a file (YAML or JSON): namespaces, service accounts, pods,
 * secrets, nodes, users, static bearer tokens and authorization rules. Decoded with Schema, so a bad file fails with a
 * message naming the field path.
 *
 * @example
 * ```yaml
 * namespaces: [default, team-a]
 * serviceAccounts:
 *   - { namespace: team-a, name: builder, uid: 0a9b8c7d-1111-4e2f-8a3b-556677889900 }
 * pods:
 *   - { namespace: team-a, name: web, serviceAccountName: builder, nodeName: worker-1, tokenAudiences: [vault] }
 * nodes: [{ name: worker-1 }]
 * users: [{ name: alice, groups: [system:masters] }]
 * staticTokens: [{ token: s3cret, user: ci, groups: [ci] }]
 * rules: [{ users: [ci], namespaces: [team-a], names: [builder] }]
 * ```
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Yaml from "yaml"
import { DevServerError } from "./DevServerError.ts"

const opt = <S extends Schema.Schema.Any>(s: S) => Schema.optionalWith(s, { exact: true })
const Name = Schema.String.pipe(Schema.minLength(1, { message: () => "must be a non-empty string" }))
const Names = Schema.Array(Name)

/** A namespace: a name, or an object with a name and an optional UID. */
export interface NamespaceInput {
  /** The namespace's name. */
  readonly name: string
  /** Its UID; a random one when absent. */
  readonly uid?: string
}
/** A namespaced object: a service account or a secret. */
export interface ObjectInput {
  /** The namespace it lives in. */
  readonly namespace: string
  /** Its name. */
  readonly name: string
  /** Its UID; a random one when absent. */
  readonly uid?: string
}
/** A pod: its service account and, when scheduled, its node. */
export interface PodInput extends ObjectInput {
  /** The service account the pod runs as. */
  readonly serviceAccountName: string
  /** The node the pod is scheduled on. */
  readonly nodeName?: string
  /**
   * The audiences of the pod's projected service-account token volumes, besides its default `kube-api-access` volume
   * (whose token has no audience, meaning the API server's). A node may request tokens for these audiences only.
   */
  readonly tokenAudiences?: ReadonlyArray<string>
}
/** A node (cluster-scoped). */
export interface NodeInput {
  /** The node's name. */
  readonly name: string
  /** Its UID; a random one when absent. */
  readonly uid?: string
}
/** A user and groups it belongs to (added to the groups its client certificate or static token carries). */
export interface UserInput {
  /** The user name (a certificate's CN or a static token's user). */
  readonly name: string
  /** Extra groups of that user. */
  readonly groups?: ReadonlyArray<string>
}
/** A static bearer token and the identity it authenticates as. */
export interface StaticTokenInput {
  /** The bearer token. */
  readonly token: string
  /** The user it authenticates as. */
  readonly user: string
  /** The user's UID. */
  readonly uid?: string
  /** The user's groups. */
  readonly groups?: ReadonlyArray<string>
}
/**
 * An authorization rule: who (users or groups; `*` matches anyone authenticated) may do which verbs on which resources
 * in which namespaces to which object names. Defaults: verbs `[create]`, resources `[serviceaccounts/token]`,
 * namespaces and names `*`.
 */
export interface RuleInput {
  /** Users the rule applies to. */
  readonly users?: ReadonlyArray<string>
  /** Groups the rule applies to. */
  readonly groups?: ReadonlyArray<string>
  /** Allowed verbs. @default ["create"] */
  readonly verbs?: ReadonlyArray<string>
  /** Allowed resources. @default ["serviceaccounts/token"] */
  readonly resources?: ReadonlyArray<string>
  /** Namespaces the rule covers. @default ["*"] */
  readonly namespaces?: ReadonlyArray<string>
  /** Object names the rule covers. @default ["*"] */
  readonly names?: ReadonlyArray<string>
}
/** What each list of a state file holds, by key. */
export interface StateEntries {
  /** Namespaces (names or objects). */
  readonly namespaces: string | NamespaceInput
  /** Service accounts. */
  readonly serviceAccounts: ObjectInput
  /** Pods (bound-token targets). */
  readonly pods: PodInput
  /** Secrets (bound-token targets). */
  readonly secrets: ObjectInput
  /** Nodes (bound-token targets). */
  readonly nodes: NodeInput
  /** Users and their extra groups. */
  readonly users: UserInput
  /** Static bearer tokens. */
  readonly staticTokens: StaticTokenInput
  /** Authorization rules (members of `system:masters` need none). */
  readonly rules: RuleInput
}
/** The whole state: a list of each kind of entry. Every list is optional. */
export type StateInput = { readonly [K in keyof StateEntries]?: ReadonlyArray<StateEntries[K]> }

const ObjectFields = { namespace: Name, name: Name, uid: opt(Name) }

/** The Schema of one user (also the body of the admin API's user call). */
export const UserSchema: Schema.Schema<UserInput> = Schema.Struct({ name: Name, groups: opt(Names) })

/** The Schema of one static token (also the body of the admin API's static-token call). */
export const StaticTokenSchema: Schema.Schema<StaticTokenInput> = Schema.Struct({
  token: Name,
  user: Name,
  uid: opt(Name),
  groups: opt(Names),
})

/** The Schema of one authorization rule (also the body of the admin API's rule call). */
export const RuleSchema: Schema.Schema<RuleInput> = Schema.Struct({
  users: opt(Names),
  groups: opt(Names),
  verbs: opt(Names),
  resources: opt(Names),
  namespaces: opt(Names),
  names: opt(Names),
})

/** The Schema of a state file. Unknown keys are rejected, so that a typo does not silently do nothing. */
export const StateInputSchema: Schema.Schema<StateInput> = Schema.Struct({
  namespaces: opt(Schema.Array(Schema.Union(Name, Schema.Struct({ name: Name, uid: opt(Name) })))),
  serviceAccounts: opt(Schema.Array(Schema.Struct(ObjectFields))),
  pods: opt(
    Schema.Array(
      Schema.Struct({ ...ObjectFields, serviceAccountName: Name, nodeName: opt(Name), tokenAudiences: opt(Names) }),
    ),
  ),
  secrets: opt(Schema.Array(Schema.Struct(ObjectFields))),
  nodes: opt(Schema.Array(Schema.Struct({ name: Name, uid: opt(Name) }))),
  users: opt(Schema.Array(UserSchema)),
  staticTokens: opt(Schema.Array(StaticTokenSchema)),
  rules: opt(Schema.Array(RuleSchema)),
})

/** The built-in state: namespace `default` with service account `default` and a demo pod `demo` on node `node-1`. */
export const defaultState: StateInput = {
  namespaces: ["default"],
  serviceAccounts: [{ namespace: "default", name: "default" }],
  pods: [{ namespace: "default", name: "demo", serviceAccountName: "default", nodeName: "node-1" }],
  nodes: [{ name: "node-1" }],
}

/** Decodes an already parsed document (for example from JSON in a test); errors name the path of the bad field. */
export const decodeState = (input: unknown, source = "state"): Effect.Effect<StateInput, DevServerError> =>
  Schema.decodeUnknown(StateInputSchema, { onExcessProperty: "error", errors: "all" })(input).pipe(
    Effect.mapError((e) =>
      new DevServerError({
        reason: "State",
        description: `${source}: ${
          ParseResult.ArrayFormatter.formatErrorSync(e).map((i) =>
            `${i.path.length === 0 ? "(root)" : i.path.join(".")}: ${i.message}`
          ).join("; ")
        }`,
      })
    ),
  )

/** Parses YAML or JSON text (JSON is YAML) and decodes it. */
export const parseState = (text: string, source = "state"): Effect.Effect<StateInput, DevServerError> =>
  Effect.try({
    try: () => Yaml.parse(text) as unknown,
    catch: (e) => new DevServerError({ reason: "State", description: `${source}: not YAML or JSON: ${String(e)}` }),
  }).pipe(Effect.flatMap((doc) => decodeState(doc ?? {}, source)))
