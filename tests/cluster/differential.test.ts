/**
 * The differential suite: every scenario of `_scenarios.ts` is sent to a real kube-apiserver and to the development
 * API server (same CA, issuer, audiences, 2 h maximum expiration, extension, users, rules and objects with the same
 * UIDs), and the normalized answers must be equal: status, Content-Type, warnings, Status bodies word for word,
 * TokenRequest responses and their JWTs by shape and time relations, TokenReview results, discovery and OIDC documents,
 * kubectl's exit code and output. The run writes `docs/conformance.md`.
 */
import assert from "node:assert/strict"
import * as fs from "node:fs"
import * as path from "node:path"
import { after, before, describe, it } from "node:test"
import * as Protobuf from "../../adapters/devserver/Protobuf.ts"
import * as ProtobufTypes from "../../adapters/devserver/ProtobufTypes.ts"
import * as ProtobufWatch from "../../adapters/devserver/ProtobufWatch.ts"
import { root } from "./_cluster.ts"
import {
  fixtureUids,
  kubectlAs,
  normalizeJson,
  normalizeText,
  type Pair,
  protobufTokenRequest,
  type Response,
  send,
  type Side,
  startPair,
  tokenLifetime,
} from "./_differential.ts"
import { type Body, type HttpScenario, type KubectlScenario, type Scenario, scenarios } from "./_scenarios.ts"

/** What is compared of one answer, and a one-line summary for the table. */
interface Outcome {
  readonly view: unknown
  readonly summary: string
}

const placeholders = (side: Side, text: string): string =>
  text.replace(/\{\{(uid:)?([^}]+)\}\}/g, (_, isUid: string | undefined, key: string) => {
    if (isUid) {
      for (const [uid, label] of fixtureUids) if (label === `<uid:${key}>`) return uid
      throw new Error(`no fixture ${key}`)
    }
    const token = side.tokens[key]
    if (token === undefined) throw new Error(`no token ${key}`)
    return token
  })

const encode = (side: Side, body: Body): { bytes: Uint8Array; contentType: string } => {
  if ("json" in body) {
    return {
      bytes: new TextEncoder().encode(placeholders(side, JSON.stringify(body.json))),
      contentType: "application/json",
    }
  }
  if ("protobuf" in body) {
    const spec = JSON.parse(placeholders(side, JSON.stringify(body.protobuf)))
    return { bytes: protobufTokenRequest(spec), contentType: "application/vnd.kubernetes.protobuf" }
  }
  return { bytes: new TextEncoder().encode(placeholders(side, body.raw)), contentType: body.contentType }
}

const header = (response: Response, name: string): string | undefined => {
  const value = response.headers[name]
  return value === undefined ? undefined : Array.isArray(value) ? value.join(", ") : String(value)
}

type Json = Record<string, unknown>

const names = (list: unknown, key: string): ReadonlySet<string> =>
  new Set(Array.isArray(list) ? list.map((item) => (item as Json)[key] as string) : [])

/**
 * Discovery documents are compared on what the development server serves: the resources (and groups) it lists, each
 * with every field, its verbs restricted to the verbs it serves. Anything it lists must be in the real document.
 */
const discoveryViews = (real: unknown, ours: unknown): [unknown, unknown] => {
  if (typeof real !== "object" || real === null || typeof ours !== "object" || ours === null) return [real, ours]
  const r = real as Json
  const o = ours as Json
  if (Array.isArray(o.resources) && Array.isArray(r.resources)) {
    const served = names(o.resources, "name")
    const oursVerbs = new Map((o.resources as Array<Json>).map((x) => [x.name as string, x.verbs as Array<string>]))
    const strip = (x: Json) => {
      const { storageVersionHash: _, ...rest } = x
      return rest
    }
    return [
      {
        ...r,
        resources: (r.resources as Array<Json>).filter((x) => served.has(x.name as string)).map((x) => ({
          ...strip(x),
          verbs: (x.verbs as Array<string>).filter((v) => oursVerbs.get(x.name as string)?.includes(v)),
        })),
      },
      { ...o, resources: (o.resources as Array<Json>).map(strip) },
    ]
  }
  if (Array.isArray(o.items) && Array.isArray(r.items)) return [aggregatedView(r, o), o]
  if (Array.isArray(o.groups) && Array.isArray(r.groups)) {
    const served = names(o.groups, "name")
    return [{ ...r, groups: (r.groups as Array<Json>).filter((g) => served.has(g.name as string)) }, o]
  }
  return [real, ours]
}

/** Keeps of `real` the entries whose `key` ours has, each made by `each` from the pair. */
const matching = (real: unknown, ours: unknown, key: string, each: (r: Json, o: Json) => Json): Array<Json> => {
  const oursByKey = new Map((Array.isArray(ours) ? ours as Array<Json> : []).map((x) => [String(x[key]), x]))
  return (Array.isArray(real) ? real as Array<Json> : []).flatMap((x) => {
    const o = oursByKey.get(String(x[key]))
    return o === undefined ? [] : [each(x, o)]
  })
}

const servedVerbs = (r: Json, o: Json): Json => ({
  ...r,
  verbs: (r.verbs as Array<string>).filter((v) => (o.verbs as Array<string>).includes(v)),
})

/**
 * An aggregated discovery list (`apidiscovery.k8s.io/v2`) restricted the same way: the groups, versions, resources
 * and subresources ours lists, with the verbs ours serves.
 */
const aggregatedView = (real: Json, ours: Json): Json => ({
  ...real,
  items: matching(
    (real.items as Array<Json>).map((i) => ({ ...i, name: (i.metadata as Json).name ?? "" })),
    (ours.items as Array<Json>).map((i) => ({ ...i, name: (i.metadata as Json).name ?? "" })),
    "name",
    ({ name: _, ...r }, o) => ({
      ...r,
      versions: matching(r.versions, o.versions, "version", (rv, ov) => ({
        ...rv,
        resources: matching(rv.resources, ov.resources, "resource", (rr, or) => {
          const { subresources, ...resource } = servedVerbs(rr, or)
          return or.subresources === undefined ? resource : {
            ...resource,
            subresources: matching(subresources, or.subresources, "subresource", servedVerbs),
          }
        }),
      })),
    }),
  ),
})

const summarize = (response: Response): string => {
  const body = response.json as Json | undefined
  const reason = body?.kind === "Status" ? ` ${String(body.reason)}` : ""
  const kind = body?.kind !== undefined && body.kind !== "Status" ? ` ${String(body.kind)}` : ""
  return `${response.status}${reason}${kind}`
}

const httpOutcome = (side: Side, response: Response, view: HttpScenario["view"], other?: unknown): Outcome => {
  const contentType = header(response, "content-type")
  const head = { status: response.status, contentType }
  if (view === "head") return { view: head, summary: summarize(response) }
  const warning = header(response, "warning")
  let body: unknown = response.json === undefined ? normalizeText(side, response.text, fixtureUids) : response.json
  if (view === "version" && typeof body === "object" && body !== null) {
    body = Object.fromEntries(Object.entries(body as Json).map(([k, v]) => [k, typeof v]))
  }
  if (view === "discovery") body = other
  if (response.json !== undefined && view !== "version") body = normalizeJson(side, body, fixtureUids)
  const lifetime = tokenLifetime(response.json)
  return {
    view: {
      ...head,
      warning: warning === undefined ? undefined : normalizeText(side, warning, fixtureUids),
      body,
      ...(lifetime === undefined ? {} : { lifetime }),
    },
    summary: summarize(response),
  }
}

/**
 * A protobuf body (or watch stream, as its list of events) read into its JSON shape, every field as sent: zero values
 * and fields the tables do not name (as `#<number>`) included, so that what one server writes and the other does not
 * shows.
 */
const withProtobuf = (response: Response): Response => {
  const contentType = header(response, "content-type")
  const options = { keepUnknown: true }
  return contentType === Protobuf.mediaType
    ? { ...response, json: Protobuf.decode(response.bytes, ProtobufTypes.messageOf, options) }
    : contentType === ProtobufWatch.mediaType
    ? { ...response, json: ProtobufWatch.decodeStream(response.bytes, ProtobufTypes.messageOf, options) }
    : response
}

const runHttp = async (pair: Pair, scenario: HttpScenario): Promise<[Outcome, Outcome]> => {
  const request = (side: Side) => {
    const body = scenario.body === undefined ? undefined : encode(side, scenario.body)
    return send(side, scenario.as, {
      method: scenario.method,
      path: scenario.path,
      headers: {
        ...(body === undefined ? {} : { "content-type": body.contentType }),
        accept: "application/json",
        ...scenario.headers,
      },
      ...(body === undefined ? {} : { body: body.bytes }),
    })
  }
  const [real, ours] = (await Promise.all([request(pair.real), request(pair.ours)])).map(withProtobuf) as [
    Response,
    Response,
  ]
  const [realDoc, oursDoc] = scenario.view === "discovery"
    ? discoveryViews(real.json, ours.json)
    : [real.json, ours.json]
  return [
    httpOutcome(pair.real, real, scenario.view, realDoc),
    httpOutcome(pair.ours, ours, scenario.view, oursDoc),
  ]
}

const runKubectl = async (pair: Pair, scenario: KubectlScenario): Promise<[Outcome, Outcome]> => {
  const one = async (side: Side): Promise<Outcome> => {
    const done = await kubectlAs(
      side,
      scenario.as,
      scenario.args.map((a) => placeholders(side, a)),
      scenario.stdin === undefined ? undefined : placeholders(side, scenario.stdin),
    )
    // ages in kubectl's tables (the fixtures were created seconds apart on the two servers)
    let stdout: unknown = normalizeText(side, done.stdout, fixtureUids).replace(/\b(\d+[smhd])+\b/g, "<age>")
    try {
      stdout = normalizeJson(side, JSON.parse(done.stdout), fixtureUids)
    } catch {
      // not JSON: compared as normalized text
    }
    return {
      view: { exit: done.code, stdout, stderr: normalizeText(side, done.stderr, fixtureUids) },
      summary: `exit ${done.code}`,
    }
  }
  return await Promise.all([one(pair.real), one(pair.ours)])
}

/** Runs `tasks` with at most `limit` at a time. */
const pool = async <A>(limit: number, tasks: ReadonlyArray<() => Promise<A>>): Promise<Array<A>> => {
  const results: Array<A> = new Array(tasks.length)
  let next = 0
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < tasks.length) {
      const i = next++
      results[i] = await tasks[i]!()
    }
  }))
  return results
}

interface Result {
  readonly scenario: Scenario
  readonly real: Outcome
  readonly ours: Outcome
  readonly equal: boolean
}

/** A table cell: pipes and asterisks escaped (the wildcard media range would read as emphasis), on one line. */
const cell = (text: string): string => text.replace(/[|*]/g, (c) => `\\${c}`).replace(/\n/g, " ")

const request = (s: Scenario): string =>
  s.kind === "kubectl"
    ? `\`kubectl ${s.args.join(" ")}\``
    : `${s.method} \`${s.path}\`${
      s.body === undefined
        ? ""
        : "json" in s.body
        ? " (JSON)"
        : "protobuf" in s.body
        ? " (protobuf)"
        : ` (${s.body.contentType})`
    }`

/** Greedy wrapping at 120 columns, as `deno fmt` wraps Markdown prose. */
const wrap = (text: string): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > 120) {
      lines.push(line)
      line = word
    } else line = line === "" ? word : `${line} ${word}`
  }
  return [...lines, line]
}

/** A Markdown table with padded columns, as `deno fmt` lays it out. */
const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => {
  const widths = head.map((h, c) => Math.max(3, h.length, ...rows.map((row) => row[c]!.length)))
  const line = (row: ReadonlyArray<string>) => `| ${row.map((text, c) => text.padEnd(widths[c]!)).join(" | ")} |`
  return [line(head), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)]
}

const conformance = (results: ReadonlyArray<Result>): string => {
  const equal = results.filter((r) => r.equal && r.scenario.outOfScope === undefined).length
  const outOfScope = results.filter((r) => r.scenario.outOfScope !== undefined).length
  const differing = results.length - equal - outOfScope
  const reasons = [...new Set(results.flatMap((r) => r.scenario.outOfScope ?? []))]
  const lines = [
    "# Conformance of the development API server",
    "",
    ...wrap(
      [
        "Generated by `tests/cluster/differential.test.ts` (`npm run test:cluster`): each scenario is sent to " +
        "a real kube-apiserver and to the development API server, started with the same CA, issuer, API " +
        "audiences, a 2 h maximum token expiration, token extension on, the same users (client certificates, " +
        "a static token, service-account tokens), equivalent authorization rules, a P-256 service-account " +
        "signing key on both, and the same namespace, " +
        "service accounts, pods, secrets and nodes (same UIDs). Compared after normalizing tokens, random " +
        "UIDs, timestamps, resource versions, the server address and the signing key id: HTTP status, " +
        "`Content-Type`, warnings, the whole body (Status `message` word for word; JWTs by header, claim keys " +
        "and types, iss/sub/aud, the `kubernetes.io` block and the offsets of exp, nbf and warnafter from " +
        "iat; `status.expirationTimestamp` within five seconds before exp, because the real server reads " +
        "its clock once for the status and again for the claims), and for kubectl commands the exit code, " +
        "stdout and stderr. Protobuf replies (asked for with kubectl's `Accept`) are decoded on both sides and " +
        "compared field by field, zero values and fields of numbers the decoder does not know included. " +
        "Discovery documents, legacy and aggregated (`apidiscovery.k8s.io/v2`), are compared on the groups, " +
        "versions, resources and subresources the development server serves (its verbs a subset of the real " +
        "ones); `/version` by keys and types.",
      ].join(""),
    ),
    "",
    `${results.length} scenarios: ${equal} equal, ${differing} differing, ${outOfScope} out of scope.`,
    "",
    ...table(
      ["#", "scenario", "identity", "request", "real", "ours", "equal?"],
      results.map((r, i) => [
        String(i + 1),
        cell(r.scenario.name),
        r.scenario.as,
        cell(request(r.scenario)),
        cell(r.real.summary),
        cell(r.ours.summary),
        r.scenario.outOfScope !== undefined
          ? `out of scope (${reasons.indexOf(r.scenario.outOfScope) + 1})`
          : r.equal
          ? "yes"
          : "**no**",
      ]),
    ),
    "",
    "## Out of scope",
    ...reasons.flatMap((reason, i) => ["", ...wrap(`(${i + 1}) ${reason}`)]),
    "",
  ]
  return lines.join("\n")
}

describe("the development API server answers like a real kube-apiserver", { timeout: 15 * 60_000 }, () => {
  let pair: Pair
  let results: ReadonlyArray<Result> = []

  before(async () => {
    pair = await startPair()
    results = await pool(
      6,
      scenarios.map((scenario) => async (): Promise<Result> => {
        const [real, ours] = scenario.kind === "http" ? await runHttp(pair, scenario) : await runKubectl(pair, scenario)
        let equal = true
        try {
          assert.deepEqual(ours.view, real.view)
        } catch {
          equal = false
        }
        return { scenario, real, ours, equal }
      }),
    )
    fs.writeFileSync(path.join(root, "docs/conformance.md"), conformance(results))
    // SA_TOKEN_DIFF_DUMP=FILE keeps every compared view, to read a difference in full.
    const dump = process.env.SA_TOKEN_DIFF_DUMP
    if (dump) fs.writeFileSync(dump, JSON.stringify(results, null, 2))
  })

  after(async () => {
    await pair?.stop()
  })

  it("has at least 80 scenarios with distinct names", () => {
    assert.ok(scenarios.length >= 80, `${scenarios.length} scenarios`)
    assert.equal(new Set(scenarios.map((s) => s.name)).size, scenarios.length)
  })

  for (const [i, scenario] of scenarios.entries()) {
    it(
      scenario.name,
      { skip: scenario.outOfScope === undefined ? false : `out of scope: ${scenario.outOfScope}` },
      () => {
        const result = results[i]!
        assert.deepEqual(result.ours.view, result.real.view)
      },
    )
  }
})
