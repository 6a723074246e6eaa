/**
 * What a route of the development API server answers: a status code, headers and a JSON body, plus the `meta/v1`
 * Status errors kube-apiserver gives, with its exact messages.
 *
 * @module
 */
import * as Status from "../../core/Status.ts"
import * as KubeWire from "../kube/KubeWire.ts"

/** A JSON reply (or protobuf, as the handler negotiates); a watch streams its events instead of a body. */
export interface Reply {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body: unknown
  readonly watch?: {
    /** The kind of the objects of its events (`Table` for Tables): what decides the media type of the stream. */
    readonly kind: string
    /** Sends the first events and later ones through `send`; returns what stops it. */
    readonly start: (send: (event: WatchEvent) => void) => () => void
    readonly timeoutMillis?: number
  }
}

/** One event of a watch. */
export interface WatchEvent {
  readonly type: string
  readonly object: Record<string, unknown>
}

/** A JSON reply with the given status. */
export const json = (status: number, body: unknown, headers?: Readonly<Record<string, string>>): Reply =>
  headers === undefined ? { status, body } : { status, body, headers }

/** A Status reply (the code of the Status is the HTTP status). */
export const status = (s: Status.Status, headers?: Readonly<Record<string, string>>): Reply =>
  json(s.code ?? 500, s, headers)

/** 401 `Unauthorized`. */
export const unauthorized = (): Reply => status(Status.failure(401, "Unauthorized", "Unauthorized"))

/** 400 BadRequest with a message and no details. */
export const badRequest = (message: string): Reply => status(Status.failure(400, "BadRequest", message))

/** 404 `<resource> "<name>" not found`. */
export const notFound = (resource: string, name: string, group?: string): Reply =>
  status(
    Status.failure(404, "NotFound", `${resource}${group ? `.${group}` : ""} "${name}" not found`, {
      details: { name, ...(group ? { group } : {}), kind: resource },
    }),
  )

/** 404 for a path this server does not serve (kube-apiserver's text). */
export const pathNotFound = (): Reply =>
  status(
    Status.failure(404, "NotFound", "the server could not find the requested resource", {
      details: {},
    }),
  )

/** 404 for a path outside the API trees: kube-apiserver's plain-text page. */
export const pageNotFound = (): Reply => ({
  status: 404,
  body: "404 page not found\n",
  headers: { "content-type": "text/plain; charset=utf-8" },
})

/** 405 for a known path with a method it does not accept (kube-apiserver's text). */
export const methodNotAllowed = (): Reply =>
  status(
    Status.failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {
      details: {},
    }),
  )

/** 409 `Operation cannot be fulfilled on <kind[.group]> "<name>": <message>`. */
export const conflict = (kind: string, group: string, name: string, message: string): Reply =>
  status(
    Status.failure(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${kind}${group ? `.${group}` : ""} "${name}": ${message}`,
      { details: { name, ...(group ? { group } : {}), kind } },
    ),
  )

/** One field error of an Invalid status. */
export interface FieldError {
  readonly field: string
  /** The value as Go's `%v`/`%q` renders it (strings quoted). */
  readonly value: string
  readonly detail: string
}

/** 422 Invalid: `<Kind>.<group> "<name>" is invalid: <field>: Invalid value: <v>: <detail>` with `details.causes`. */
export const invalid = (kind: string, group: string, name: string, errors: ReadonlyArray<FieldError>): Reply => {
  const messages = errors.map((e) => `${e.field}: Invalid value: ${e.value}: ${e.detail}`)
  const aggregate = messages.length === 1 ? messages[0] : `[${messages.join(", ")}]`
  return status(
    Status.failure(422, "Invalid", `${kind}.${group} "${name}" is invalid: ${aggregate}`, {
      details: {
        ...(name === "" ? {} : { name }),
        group,
        kind,
        causes: errors.map((e) => ({
          reason: "FieldValueInvalid",
          message: `Invalid value: ${e.value}: ${e.detail}`,
          field: e.field,
        })),
      },
    }),
  )
}

/** The parts of a request an authorization decision is about. */
export interface Attributes {
  readonly user: string
  readonly verb: string
  readonly resource: string
  readonly subresource?: string
  readonly group: string
  readonly namespace?: string
  readonly name?: string
  /** Why an authorizer did not allow it, appended to the message after `: ` (the Node authorizer gives one). */
  readonly reason?: string
}

/** 403 with kube-apiserver's RBAC denial text. */
export const forbidden = (a: Attributes): Reply => {
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource
  const what = a.name ? `${qualified} "${a.name}"` : qualified
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : "at the cluster scope"
  return status(
    Status.failure(
      403,
      "Forbidden",
      `${what} is forbidden: User "${a.user}" cannot ${a.verb} resource "${full}" in API group "${a.group}" ${scope}${
        a.reason === undefined ? "" : `: ${a.reason}`
      }`,
      { details: { ...(a.name ? { name: a.name } : {}), ...(a.group ? { group: a.group } : {}), kind: a.resource } },
    ),
  )
}

/** 403 for a non-resource URL. */
export const forbiddenPath = (user: string, verb: string, path: string): Reply =>
  status(
    Status.failure(403, "Forbidden", `forbidden: User "${user}" cannot ${verb} path "${path}"`, { details: {} }),
  )

/** 429 or another fault status with `Retry-After`. */
export const fault = (code: number, retryAfterSeconds: number | undefined): Reply => {
  const reason = KubeWire.reasonForCode(code)
  const message = code === 429
    ? "Too many requests, please try again later."
    : code >= 500
    ? "Internal error occurred: injected fault"
    : `injected fault ${code}`
  return status(
    Status.failure(code, reason, message, {
      ...(retryAfterSeconds === undefined ? {} : { details: { retryAfterSeconds } }),
    }),
    retryAfterSeconds === undefined ? undefined : { "retry-after": String(retryAfterSeconds) },
  )
}
