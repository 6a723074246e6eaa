#!/usr/bin/env bash
# The whole suite: static checks, then every test file under Deno, Bun and Node (Node last: CI reads its summary).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export NO_COLOR=1

echo "== static: deno fmt --check, deno lint, deno check, deno publish --dry-run"
deno fmt --check
deno lint
deno check mod.ts adapters tests
deno publish --dry-run --allow-dirty --quiet

echo "== deno test --doc (README and every @example)"
deno test -A --doc --quiet mod.ts core README.md

echo "== deno test"
deno test -A --no-check tests/

echo "== bun test"
bun test tests/

echo "== node --test"
node --import tsx --test tests/*.test.ts
