#!/usr/bin/env bash
# Bundles the `sa-token` bin into one ES module (plus lazily loaded chunks) in the directory given (default dist/bin),
# emptied first so that no chunk of an earlier build is left behind. kubectl pays the bin's start-up on every
# `exec-credential` call: the entry itself holds only the dispatch and the built-in texts, and each tier it may load
# (the lean exec-credential answers, the full CLI, each runtime's layer) is a dynamic import, so it is a chunk of its
# own, loaded only when that tier runs. The chunks sit beside the entry: code that finds the package from its own
# location (the permissions command) is then two levels below the package's root, as in the sources.
# Everything the bin uses is bundled, so it runs with no node_modules beside it (its dependencies are optional peers of
# the package): @kubernetes/client-node lands in a chunk loaded only when a kubeconfig is read, and only its kubeconfig
# module (KubeConfig) is taken, not the whole package with its generated API clients (0.8 MB minified instead of
# 3.5 MB). `require` is provided for the CommonJS dependencies bundled into it.
set -euo pipefail
out="${1:-dist/bin}"
cd "$(dirname "$0")/.."
rm -rf "$out"
node_modules/.bin/esbuild adapters/cli/main.ts --bundle --platform=node --format=esm --target=node20 --splitting \
  --outdir="$out" --entry-names=sa-token --chunk-names=[name]-[hash] --minify --log-level=warning \
  --external:bun --alias:@kubernetes/client-node=@kubernetes/client-node/dist/config.js \
  --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
chmod +x "$out/sa-token.js"
