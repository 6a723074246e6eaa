/**
 * Discovery: the legacy documents and aggregated discovery (`apidiscovery.k8s.io/v2`) of `/api` and `/apis`, chosen by
 * `Accept` as kube-apiserver chooses, listing the same resources and verbs.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Effect from "effect/Effect"
import * as Discovery from "../../adapters/devserver/Discovery.ts"
import { call, server } from "../_support/devserver.ts"
import { runTest } from "../_support/harness.ts"

/** What kubectl and client-go send for discovery. */
const kubectlDiscovery =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"

type Json = Record<string, unknown>
type Item = { metadata: { name?: string }; versions: Array<{ version: string; resources: Array<Json> }> }

describe("devserver aggregated discovery", () => {
  it("is chosen when the first answerable clause of Accept asks for apidiscovery.k8s.io/v2", () => {
    const cases: ReadonlyArray<readonly [string | undefined, boolean]> = [
      [kubectlDiscovery, true],
      // with parameters, the aggregated clause ranks before plain JSON of the same q
      ["application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", true],
      ["application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0.5, application/json", false],
      // v2beta1 is not served: the next clause decides
      ["application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList, application/json", false],
      ["application/json", false],
      [undefined, false],
    ]
    for (const [accept, expected] of cases) assert.equal(Discovery.aggregatedWanted(accept), expected, String(accept))
  })

  it("serves /apis and /api as APIGroupDiscoveryList, the legacy documents otherwise", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const apis = yield* call(s, { path: "/apis", headers: { accept: kubectlDiscovery } })
      assert.equal(apis.status, 200)
      assert.equal(apis.headers["content-type"], "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
      assert.deepEqual([apis.headers["cache-control"], apis.headers.vary], ["public", "Accept"])
      const list = apis.json as { kind: string; apiVersion: string; items: Array<Item> }
      assert.deepEqual([list.kind, list.apiVersion], ["APIGroupDiscoveryList", "apidiscovery.k8s.io/v2"])
      assert.deepEqual(list.items.map((i) => i.metadata.name), ["authentication.k8s.io", "authorization.k8s.io"])
      assert.deepEqual(list.items[0]!.versions[0]!.resources[1], {
        resource: "tokenreviews",
        responseKind: { group: "", version: "", kind: "TokenReview" },
        scope: "Cluster",
        singularResource: "tokenreview",
        verbs: ["create"],
      })

      const api = (yield* call(s, { path: "/api", headers: { accept: kubectlDiscovery } })).json as {
        items: Array<Item>
      }
      assert.deepEqual(api.items.map((i) => i.metadata), [{}])
      const core = api.items[0]!.versions[0]!
      assert.equal(core.version, "v1")
      assert.deepEqual(core.resources.find((r) => r.resource === "serviceaccounts"), {
        resource: "serviceaccounts",
        responseKind: { group: "", version: "", kind: "ServiceAccount" },
        scope: "Namespaced",
        singularResource: "serviceaccount",
        verbs: ["get", "list", "watch"],
        shortNames: ["sa"],
        subresources: [{
          subresource: "token",
          responseKind: { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" },
          verbs: ["create"],
        }],
      })

      // the legacy documents list the same resources with the same verbs
      const legacy = (yield* call(s, { path: "/api/v1" })).json as { resources: Array<Json> }
      assert.deepEqual(
        legacy.resources.filter((r) => !String(r.name).includes("/")).map((r) => [r.name, r.verbs]),
        core.resources.map((r) => [r.resource, r.verbs]),
      )
      const plain = yield* call(s, { path: "/apis" })
      assert.equal(plain.headers["content-type"], "application/json")
      assert.equal((plain.json as Json).kind, "APIGroupList")
      assert.equal(((yield* call(s, { path: "/api" })).json as Json).kind, "APIVersions")
    })))

  it("tags aggregated discovery with an entity tag and answers 304 to a client that has it", () =>
    runTest(Effect.gen(function* () {
      const s = yield* server()
      const accept = kubectlDiscovery
      const first = yield* call(s, { path: "/apis", headers: { accept } })
      const etag = String(first.headers.etag)
      // the SHA-512 of the document, upper-case hex, quoted
      assert.match(etag, /^"[0-9A-F]{128}"$/)
      assert.equal((yield* call(s, { path: "/api", headers: { accept } })).headers.etag === etag, false)
      const cached = yield* call(s, { path: "/apis", headers: { accept, "if-none-match": etag } })
      assert.deepEqual([cached.status, cached.text, cached.headers["content-type"]], [304, "", undefined])
      assert.deepEqual([cached.headers.etag, cached.headers["cache-control"], cached.headers.vary], [
        etag,
        "public",
        "Accept",
      ])
      const stale = yield* call(s, { path: "/apis", headers: { accept, "if-none-match": '"0123"' } })
      assert.deepEqual([stale.status, (stale.json as Json).kind], [200, "APIGroupDiscoveryList"])
    })))
})
