/**
 * `GET /metrics` of the development API server, in the Prometheus text format kube-apiserver uses:
 * `apiserver_request_total` by verb, group, version, resource, subresource, scope, component and code, and the number
 * of tokens issued. Readable by `system:masters` and `system:monitoring`, as the default roles have it.
 *
 * @module
 */
import type { RequestInfo } from "./RequestInfo.ts"

/** The media type of the metrics page. */
export const contentType = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"

const metricVerb = (info: RequestInfo): string => {
  if (info._tag === "NonResource") return info.verb.toUpperCase()
  switch (info.verb) {
    case "create":
      return "POST"
    case "update":
      return "PUT"
    default:
      return info.verb.toUpperCase()
  }
}

const escape = (value: string): string => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")

/** The label set of one answered request, as a key of {@link render}'s map. */
export const requestKey = (info: RequestInfo, code: number): string => {
  const labels: ReadonlyArray<readonly [string, string]> = info._tag === "NonResource"
    ? [["code", String(code)], ["component", "apiserver"], ["verb", metricVerb(info)]]
    : [
      ["code", String(code)],
      ["component", "apiserver"],
      ["group", info.group],
      ["resource", info.resource],
      ["scope", info.name !== undefined ? "resource" : info.namespace !== undefined ? "namespace" : "cluster"],
      ["subresource", info.subresource ?? ""],
      ["verb", metricVerb(info)],
      ["version", info.version],
    ]
  return labels.map(([k, v]) => `${k}="${escape(v)}"`).join(",")
}

/** The metrics page. */
export const render = (answered: ReadonlyMap<string, number>, tokensIssued: number): string =>
  [
    "# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
    "# TYPE apiserver_request_total counter",
    ...[...answered.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([labels, n]) =>
      `apiserver_request_total{${labels}} ${n}`
    ),
    "# HELP devserver_tokens_issued_total Service-account tokens issued by TokenRequest.",
    "# TYPE devserver_tokens_issued_total counter",
    `devserver_tokens_issued_total ${tokensIssued}`,
    "",
  ].join("\n")
