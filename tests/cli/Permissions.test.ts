/**
 * The permission flags `sa-token permissions` prints, rendered from what a command needs: Deno's and Node's, nothing
 * broader than the needs; and the flag a Deno permission error asks for.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import * as Permissions from "../../adapters/cli/Permissions.ts"

describe("permission flags", () => {
  it("renders Deno's and Node's flags, nothing broader than the needs", () => {
    const needs: Permissions.Needs = {
      ...Permissions.none,
      read: ["/c/agent.yaml", "/c/tokens"],
      write: ["/c/tokens"],
      net: ["127.0.0.1:6443"],
      env: ["HOME"],
      run: ["kubelogin"],
      sys: ["uid", "getegid"],
    }
    assert.deepEqual(Permissions.render(needs, "deno"), [
      "--allow-read=/c/agent.yaml,/c/tokens",
      "--allow-write=/c/tokens",
      "--allow-net=127.0.0.1:6443",
      "--allow-env=HOME",
      "--allow-sys=uid,getegid",
      "--allow-run=kubelogin",
    ])
    assert.deepEqual(Permissions.render(needs, "node"), [
      "--experimental-permission",
      "--allow-fs-read=/c/agent.yaml",
      "--allow-fs-read=/c/tokens/*",
      "--allow-fs-write=/c/tokens/*",
      "--allow-child-process",
    ])
    // Node 20 refuses a granted directory itself when a directory inside it is granted too: only the outer one is named.
    const nested: Permissions.Needs = {
      ...Permissions.none,
      read: ["/c/agent.yaml", "/c/kubeconfig", "/etc/ca.crt", "/d"],
      write: ["/c/tokens", "/c", "/d/"],
    }
    assert.deepEqual(Permissions.render(nested, "node", "/pkg"), [
      "--experimental-permission",
      "--allow-fs-read=/pkg/*",
      "--allow-fs-read=/etc/ca.crt",
      "--allow-fs-read=/c/*",
      "--allow-fs-read=/d/*",
      "--allow-fs-write=/c/*",
      "--allow-fs-write=/d/*",
    ])
    assert.deepEqual(Permissions.render(Permissions.none, "deno"), [])
    // An exec plugin inherits the whole environment: --allow-env is then unrestricted, and only then.
    const target = { files: ["/c/kubeconfig"], server: "https://10.0.0.1:6443", named: [] }
    assert.deepEqual(Permissions.render(Permissions.kubeconfig(target), "deno"), [
      "--allow-read=/c/kubeconfig",
      "--allow-net=10.0.0.1:6443",
      `--allow-env=${[...Permissions.environmentVariables, ...Permissions.yamlVariables].join(",")}`,
    ])
    assert.deepEqual(Permissions.render(Permissions.kubeconfig({ ...target, exec: "/bin/plugin" }), "deno"), [
      "--allow-read=/c/kubeconfig",
      "--allow-net=10.0.0.1:6443",
      "--allow-env",
      "--allow-run=/bin/plugin",
    ])
    assert.equal(Permissions.hostPort("https://10.0.0.1"), "10.0.0.1:443")
    assert.equal(Permissions.hostPort("https://[::1]:6443/"), "[::1]:6443")
  })

  it("renders the socket answer: the socket, each link and its real path read, only the real path connected to", () => {
    const target = {
      path: "/run/sa/link.sock",
      links: ["/run/sa/link.sock", "/run/sa/sub/one.sock"],
      real: "/run/sa/agent.sock",
    }
    const needs = Permissions.agentSocket({ ...target, ownerByName: false })
    assert.deepEqual(Permissions.render(needs, "deno"), [
      "--allow-read=/run/sa/link.sock,/run/sa/sub/one.sock,/run/sa/agent.sock",
      // Deno checks a connection to a unix socket as reading and writing it, and as net access to `unix:PATH`.
      "--allow-write=/run/sa/agent.sock",
      "--allow-net=unix:/run/sa/agent.sock",
      "--allow-sys=uid,getegid",
    ])
    // Node's permission model does not check connections: the socket is only read, nothing is written.
    assert.deepEqual(Permissions.render(needs, "node", "/pkg"), [
      "--experimental-permission",
      "--allow-fs-read=/pkg/*",
      "--allow-fs-read=/run/sa/link.sock",
      "--allow-fs-read=/run/sa/sub/one.sock",
      "--allow-fs-read=/run/sa/agent.sock",
    ])
    // A --socket-owner name is looked up in the account database; a socket with no link is read once.
    const owned = Permissions.agentSocket({
      path: "/run/sa/agent.sock",
      links: [],
      real: "/run/sa/agent.sock",
      ownerByName: true,
    })
    assert.deepEqual(Permissions.render(owned, "deno").slice(0, 2), [
      "--allow-read=/run/sa/agent.sock,/etc/passwd,/etc/group",
      "--allow-write=/run/sa/agent.sock",
    ])
    // Merged with what reading a config needs (exec-credential --config): the config first, one grant per path.
    const withConfig = Permissions.merge(
      { ...Permissions.none, read: ["/etc/sa/agent.yaml", "/run/sa/agent.sock"] },
      owned,
    )
    assert.deepEqual(withConfig.read, ["/etc/sa/agent.yaml", "/run/sa/agent.sock", "/etc/passwd", "/etc/group"])
    assert.deepEqual(withConfig.connect, ["/run/sa/agent.sock"])
  })

  it("names the flag a Deno permission error asks for", () => {
    const cases: ReadonlyArray<readonly [string, string | undefined]> = [
      ['Requires net access to "127.0.0.1:6443", run again with the --allow-net flag', "--allow-net=127.0.0.1:6443"],
      [
        'cannot parse YAML: Requires env access to "LOG_TOKENS", run again with the --allow-env flag',
        "--allow-env=LOG_TOKENS",
      ],
      ["Requires env access, run again with the --allow-env flag", "--allow-env"],
      ['Requires read access to "/a b/c", run again with the --allow-read flag', "--allow-read=/a b/c"],
      ["no such file or directory", undefined],
    ]
    for (const [message, flag] of cases) assert.equal(Permissions.missingFlag(message), flag)
  })
})
