/**
 * The OpenAPI definitions of the development API server's review kinds, with the descriptions `kubectl explain`
 * prints: `apis/authentication.k8s.io/v1` (TokenReview, SelfSubjectReview) and `apis/authorization.k8s.io/v1`
 * (SelfSubjectAccessReview). TokenRequest, a subresource of service accounts, is defined with the core kinds.
 *
 * @module
 */
import type { Definition } from "./OpenApiDefinitions.ts"
import { arrayOf, kind, kindDefinition, meta, objectMeta, refTo, str } from "./OpenApiDefinitions.ts"

const userInfo: Definition = {
  description: "The information about a user that an authenticator gives.",
  properties: {
    username: str("The name that uniquely identifies the user."),
    uid: str("A unique value that identifies the user across time."),
    groups: arrayOf("string", "The groups the user is in."),
    extra: { map: "string", description: "Further information the authenticator gives." },
  },
}

/** The definitions of `apis/authentication.k8s.io/v1`: TokenRequest, TokenReview, SelfSubjectReview. */
export const authenticationDefinitions: Readonly<Record<string, Definition>> = {
  [meta]: objectMeta,
  "io.k8s.api.authentication.v1.TokenReview": kindDefinition(
    kind("authentication.k8s.io", "v1", "TokenReview"),
    "TokenReview authenticates a token to a known user.",
    {
      spec: refTo("io.k8s.api.authentication.v1.TokenReviewSpec", "The request being evaluated."),
      status: refTo("io.k8s.api.authentication.v1.TokenReviewStatus", "The result of the review."),
    },
    ["spec"],
  ),
  "io.k8s.api.authentication.v1.TokenReviewSpec": {
    description: "A description of the token authentication request.",
    properties: {
      token: str("The opaque bearer token."),
      audiences: arrayOf("string", "Audiences the token must be valid for; the API server's if none."),
    },
  },
  "io.k8s.api.authentication.v1.TokenReviewStatus": {
    description: "The result of a token review.",
    properties: {
      authenticated: { type: "boolean", description: "Whether the token is valid." },
      user: refTo("io.k8s.api.authentication.v1.UserInfo", "The user the token belongs to."),
      audiences: arrayOf("string", "The audiences the token is valid for."),
      error: str("Why the token could not be checked."),
    },
  },
  "io.k8s.api.authentication.v1.UserInfo": userInfo,
  "io.k8s.api.authentication.v1.SelfSubjectReview": kindDefinition(
    kind("authentication.k8s.io", "v1", "SelfSubjectReview"),
    "SelfSubjectReview returns the user attributes the server holds for the caller.",
    {
      status: refTo("io.k8s.api.authentication.v1.SelfSubjectReviewStatus", "The user attributes of the caller."),
    },
  ),
  "io.k8s.api.authentication.v1.SelfSubjectReviewStatus": {
    description: "The user attributes of the caller.",
    properties: { userInfo: refTo("io.k8s.api.authentication.v1.UserInfo", "The caller.") },
  },
}

/** The definitions of `apis/authorization.k8s.io/v1`: SelfSubjectAccessReview. */
export const authorizationDefinitions: Readonly<Record<string, Definition>> = {
  [meta]: objectMeta,
  "io.k8s.api.authorization.v1.SelfSubjectAccessReview": kindDefinition(
    kind("authorization.k8s.io", "v1", "SelfSubjectAccessReview"),
    "SelfSubjectAccessReview checks whether the caller can perform an action.",
    {
      spec: refTo(
        "io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec",
        "The action being evaluated; exactly one of its attributes must be set.",
      ),
      status: refTo("io.k8s.api.authorization.v1.SubjectAccessReviewStatus", "Whether the action is allowed."),
    },
    ["spec"],
  ),
  "io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec": {
    description: "A description of the access request.",
    properties: {
      resourceAttributes: refTo(
        "io.k8s.api.authorization.v1.ResourceAttributes",
        "The attributes of a resource request.",
      ),
      nonResourceAttributes: refTo(
        "io.k8s.api.authorization.v1.NonResourceAttributes",
        "The attributes of a request for a path that is not a resource.",
      ),
    },
  },
  "io.k8s.api.authorization.v1.ResourceAttributes": {
    description: "The attributes of a resource request.",
    properties: {
      namespace: str("The namespace of the action; empty for cluster-scoped resources or all namespaces."),
      verb: str("A Kubernetes verb such as get, list, watch, create, or * for all."),
      group: str("The API group of the resource; * for all."),
      version: str("The API version of the resource; * for all."),
      resource: str("The resource; * for all."),
      subresource: str("The subresource; empty for none."),
      name: str("The name of the object; empty for all."),
    },
  },
  "io.k8s.api.authorization.v1.NonResourceAttributes": {
    description: "The attributes of a request for a path that is not a resource.",
    properties: { path: str("The URL path of the request."), verb: str("The lower-cased HTTP verb.") },
  },
  "io.k8s.api.authorization.v1.SubjectAccessReviewStatus": {
    description: "The result of an access review.",
    required: ["allowed"],
    properties: {
      allowed: { type: "boolean", description: "Whether the action is allowed." },
      denied: { type: "boolean", description: "Whether the action is denied." },
      reason: str("Why the action is allowed or denied."),
      evaluationError: str("An error that occurred while checking."),
    },
  },
}
