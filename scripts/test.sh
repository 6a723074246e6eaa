#!/usr/bin/env bash
# The whole suite: the static checks and every test file under Deno, Bun and Node, at the same time (Node's report
# last: CI reads its summary).
# tests/cluster needs a real API server built with Go: `npm run test:cluster` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export NO_COLOR=1
phase() { echo "== $1 (at ${SECONDS}s)"; }

# The static checks: formatting, lint, types, the JSR package, and the documentation of every export.
static() {
  # suite runs this without errexit: each check ends the function on failure
  deno fmt --check || return 1
  deno lint || return 1
  deno check mod.ts adapters tests || return 1
  # The package's own checks (file list, slow types in the public API); its type-check would repeat the one above, whose
  # graph holds every module the package exports, under the same compiler options.
  deno publish --dry-run --allow-dirty --quiet --no-check || return 1
  local exports="mod.ts adapters/kube/mod.ts adapters/deno/mod.ts adapters/node/mod.ts adapters/bun/mod.ts adapters/agent/mod.ts adapters/cli/mod.ts adapters/devserver/mod.ts adapters/platform/mod.ts"
  # deno doc reports types from node_modules (effect's Layer, Tag, ...) and types public through another export
  # (TlsHttpClient, Signals, PrivateFile and Ports of ./platform, used by ./kube, ./agent and ./cli; ErrorBase.Constructor of ".") as private (denoland/deno#27364); every other diagnostic fails the run.
  local doc_lint
  # shellcheck disable=SC2086
  doc_lint=$(deno doc --lint $exports 2>&1 >/dev/null | grep -E '^error' | grep -vE '^error: Found [0-9]+ documentation lint error' |
    grep -vE "private-type-ref\]: public type '[^']+' references private type '(Layer|Tag|Effect|RunMain|NodeContext|BunContext|YieldableError|JWK|TlsHttpClient|Signals|PrivateFile|Ports|Constructor)'$" || true)
  if [ -n "$doc_lint" ]; then
    echo "$doc_lint"
    return 1
  fi
}

# The static checks, the documentation examples and the three runtimes' suites run at the same time, which keeps both
# cores busy. Each writes its own log, printed whole (Node's last) when all have ended.
phase "concurrently: static checks, deno test --doc (README and every @example), deno test, bun test, node --test"
# The npm bin, which the suites start whenever they run the CLI or the agent on Node (tests/_support/clis.ts): Node
# starts the bundle in about a sixth of the CPU time that loading the sources through tsx takes.
bash scripts/build-bin.sh .cache/test-bin
export SA_TOKEN_TEST_BIN="$PWD/.cache/test-bin/sa-token.js"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
suite() {
  local name=$1
  shift
  local start=$SECONDS
  set +e
  "$@" >"$logs/$name.log" 2>&1
  echo "$? $((SECONDS - start))" >"$logs/$name.rc"
}
suite static static &
suite doc deno test -A --doc --quiet mod.ts core adapters/kube adapters/deno/mod.ts adapters/node/mod.ts adapters/bun/mod.ts \
  adapters/agent adapters/cli/mod.ts adapters/devserver adapters/platform README.md &
suite deno deno test -A --no-check --parallel --ignore=tests/cluster tests/ &
# Bun's default limit of 5 s per test fails slow but healthy tests on a loaded machine; Node and Deno have no default.
suite bun bun test --timeout=120000 --path-ignore-patterns='tests/cluster/**' tests/ &
# Node starts its slowest files first (each spawns CLIs, agents or installs), so that its run does not end with a few
# long files alone on the machine; the rest follow in tree order, each file once.
slowest="tests/cli/PermissionsCommand.test.ts tests/cli/PermissionsCommand.jsr.test.ts tests/system/hostile.agent.test.ts
  tests/system/pack.test.ts tests/cli/TokenCommand.runtimes.test.ts tests/cli/AgentCommand.test.ts
  tests/devserver/PythonClient.test.ts tests/cli/PermissionsCommand.node.test.ts tests/system/reliability.rotation.test.ts"
node_files=$(printf '%s\n' $slowest tests/core/*.test.ts tests/core/internal/*.test.ts tests/kube/*.test.ts tests/agent/*.test.ts \
  tests/cli/*.test.ts tests/devserver/*.test.ts tests/platform/*.test.ts tests/system/*.test.ts | awk '!seen[$0]++')
# Node runs the TypeScript files through a load hook of our own (support/nodeTypeScript.mjs) rather than tsx: tsx also
# hooks resolution, a round trip to the hooks thread for each of the hundreds of modules every test file loads.
# shellcheck disable=SC2086
suite node node --import ./support/nodeTypeScript.mjs --test --test-concurrency=4 $node_files &
wait
failed=0
for name in static doc deno bun node; do
  read -r code took <"$logs/$name.rc"
  phase "$name: exit $code after ${took}s"
  cat "$logs/$name.log"
  [ "$code" = 0 ] || failed=1
done
phase "done"
for name in static doc deno bun node; do
  read -r code took <"$logs/$name.rc"
  echo "$name: exit $code after ${took}s"
done
# A reader of CI often sees only the end of this output: repeat the end of each failed suite's log (Deno and Bun list
# their failures last, Node its "not ok" lines), so that the failing test is named there too.
for name in static doc deno bun node; do
  read -r code took <"$logs/$name.rc"
  [ "$code" = 0 ] && continue
  phase "$name failed: its failures"
  grep -nE '^\s*not ok|^\(fail\)|FAILED|^error|=> ' "$logs/$name.log" | tail -n 40 || true
  tail -n 60 "$logs/$name.log"
done
exit $failed
