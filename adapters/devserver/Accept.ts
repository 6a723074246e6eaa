/**
 * `Accept` negotiation as kube-apiserver does it: the media ranges ordered by `q`, then the more specific first, and
 * the first one the server can produce wins (protobuf for kubectl's `application/vnd.kubernetes.protobuf,
 * application/json`).
 *
 * @module
 */
import * as Protobuf from "./Protobuf.ts"

/** One media range of an `Accept` header. */
export interface Clause {
  readonly type: string
  readonly params: Readonly<Record<string, string>>
  readonly q: number
}

/**
 * The clauses of an `Accept` header in the order a server weighs them: by `q`, then the more specific first (no
 * wildcard subtype, no wildcard type, more parameters), else as written.
 */
export const acceptClauses = (accept: string | undefined): ReadonlyArray<Clause> => {
  const clauses = (accept ?? "").split(",").map((part): Clause => {
    const [type = "", ...rest] = part.split(";").map((s) => s.trim())
    const params = Object.fromEntries(rest.map((p) => p.split("=").map((s) => s.trim()) as [string, string]))
    const { q = "1", ...others } = params
    return { type: type.toLowerCase(), params: others, q: Number(q) }
  }).filter((c) => c.type !== "" && c.q > 0)
  const wildcards = (c: Clause) => c.type === "*/*" ? 2 : c.type.endsWith("/*") ? 1 : 0
  return clauses.map((c, i) => ({ c, i })).sort((a, b) =>
    b.c.q - a.c.q || wildcards(a.c) - wildcards(b.c) ||
    Object.keys(b.c.params).length - Object.keys(a.c.params).length || a.i - b.i
  ).map(({ c }) => c)
}

const plain = ["application/json", "application/yaml", Protobuf.mediaType, "application/*", "*/*"]

/**
 * Whether a reply should be protobuf: the first clause of `Accept` that names a plain object (not a Table or another
 * `as=` conversion) is protobuf, as kubectl's `application/vnd.kubernetes.protobuf,application/json` is.
 */
export const prefersProtobuf = (accept: string | undefined): boolean =>
  acceptClauses(accept).find((c) => plain.includes(c.type) && c.params.as === undefined)?.type ===
    Protobuf.mediaType
