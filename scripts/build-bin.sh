#!/usr/bin/env bash
# Bundles the `sa-token` bin into one ES module (plus lazily loaded chunks) in the directory given (default dist/bin),
# emptied first so that no chunk of an earlier build is left behind. kubectl pays the bin's start-up on every
# `exec-credential` call: the entry itself holds only the dispatch and the built-in texts, and each tier it may load
# (the lean exec-credential answers, the full CLI, each runtime's layer) is a dynamic import, loaded only when that
# tier runs: the full CLI and the runtime layers as chunks of a split build, each lean answer as one file of its own.
# The chunks sit beside the entry: code that finds the package from its own location (the permissions command) is then
# two levels below the package's root, as in the sources.
# Everything the bin uses is bundled, so it runs with no node_modules beside it (its dependencies are optional peers of
# the package): @kubernetes/client-node lands in a chunk loaded only when a kubeconfig is read, and only its kubeconfig
# module (KubeConfig) is taken, not the whole package with its generated API clients (0.8 MB minified instead of
# 3.5 MB). `require` is provided for the CommonJS dependencies bundled into it.
set -euo pipefail
out="${1:-dist/bin}"
cd "$(dirname "$0")/.."
rm -rf "$out"
common=(--bundle --platform=node --format=esm --target=node20 --minify --log-level=warning --external:bun
  --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);")
# The lean exec-credential paths are each one self-contained file: as chunks of the split build they would share
# modules with the full CLI and load everything the full CLI uses of them (about a quarter more code), on every call
# kubectl makes. The entry imports them by their source names, rewritten below to the built files.
lean=(ExecCredentialCacheHit ExecCredentialSocketHit)
for name in "${lean[@]}"; do
  node_modules/.bin/esbuild "adapters/cli/$name.ts" "${common[@]}" --outfile="$out/$name.js"
done
node_modules/.bin/esbuild adapters/cli/main.ts "${common[@]}" --splitting --outdir="$out" --entry-names=sa-token \
  --chunk-names=[name]-[hash] --alias:@kubernetes/client-node=@kubernetes/client-node/dist/config.js \
  $(printf -- '--external:./%s.ts ' "${lean[@]}")
for name in "${lean[@]}"; do
  grep -q "\"./$name.ts\"" "$out/sa-token.js" || { echo "build-bin: the entry does not import ./$name.ts" >&2; exit 1; }
  sed -i "s#\"./$name.ts\"#\"./$name.js\"#g" "$out/sa-token.js"
  if grep -l "\"./$name.ts\"" "$out"/*.js; then
    echo "build-bin: a chunk besides the entry imports ./$name.ts" >&2
    exit 1
  fi
done
chmod +x "$out/sa-token.js"
