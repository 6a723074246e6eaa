#!/usr/bin/env bash
# Bundles the `sa-token` bin into one ES module (plus lazily loaded chunks) in the directory given (default dist/bin):
# Node loads it in about a third of the time it takes to resolve and load the hundreds of files of dist/ and
# node_modules, which kubectl pays on every `exec-credential` call. @kubernetes/client-node stays external (loaded
# only when a kubeconfig is read), and `require` is provided for the CommonJS dependencies bundled into it.
set -euo pipefail
out="${1:-dist/bin}"
cd "$(dirname "$0")/.."
node_modules/.bin/esbuild adapters/cli/main.ts --bundle --platform=node --format=esm --target=node20 --splitting \
  --outdir="$out" --entry-names=sa-token --chunk-names=chunks/[name]-[hash] --minify --log-level=warning \
  --external:@kubernetes/client-node --external:bun \
  --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
chmod +x "$out/sa-token.js"
