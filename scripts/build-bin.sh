#!/usr/bin/env bash
# Bundles the `sa-token` bin into the directory given (default dist/bin), emptied first so that no file of an earlier
# build is left behind. kubectl pays the bin's start-up on every `exec-credential` call, so the bin is built in tiers,
# each loaded by a dynamic import only when it runs (adapters/cli/main.ts):
#   - the entry, sa-token.js: the dispatch and the built-in texts, importing nothing else;
#   - the lean exec-credential answers and each runtime's LeanHost, each one self-contained file: as chunks of a split
#     build they would share modules with the full CLI and load everything the full CLI uses of them, on every call;
#   - for Bun, both lean answers in one file (cli/LeanAnswers) and Bun's LeanHost, built by Bun itself as CommonJS with
#     Bun's bytecode beside each (X.js.jsc): Bun then neither parses nor compiles them, which takes about a third off
#     what a lean answer costs over Bun's start. The bytecode is valid only for the Bun version that built it (the devDependency's); any
#     other Bun rejects it and compiles the file as usual, as it does a file whose bytecode is damaged;
#   - the full CLI and the runtime modules, a split build whose chunks sit beside the entry: code that finds the
#     package from its own location (the permissions command) is then two levels below the package's root, as in the
#     sources.
# The entry imports the other tiers by their source names, rewritten below to the built files.
# Everything the bin uses is bundled, so it runs with no node_modules beside it (its dependencies are optional peers of
# the package): @kubernetes/client-node lands in a chunk loaded only when a kubeconfig is read, and only its kubeconfig
# module (KubeConfig) is taken, not the whole package with its generated API clients (0.8 MB minified instead of
# 3.5 MB). The full tier's files get `require` for the CommonJS dependencies bundled into them; no other file may, since
# its `node:module` import would start Deno's Node compatibility layer, which costs more than a lean answer.
set -euo pipefail
out="${1:-dist/bin}"
cd "$(dirname "$0")/.."
rm -rf "$out"
common=(--bundle --platform=node --format=esm --target=node20 --minify --log-level=warning --external:bun)
full=(cli/FullCli node/NodeRuntime bun/BunRuntime deno/DenoRuntime)
lean=(cli/ExecCredentialCacheHit cli/ExecCredentialSocketHit node/NodeLeanHost deno/DenoLeanHost)
bunLean=(cli/LeanAnswers bun/BunLeanHost)
node_modules/.bin/esbuild $(printf 'adapters/%s.ts ' "${full[@]}") "${common[@]}" --splitting --outdir="$out" \
  --entry-names=[name] --chunk-names=[name]-[hash] --alias:@kubernetes/client-node=@kubernetes/client-node/dist/config.js \
  --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
for source in "${lean[@]}"; do
  node_modules/.bin/esbuild "adapters/$source.ts" "${common[@]}" --outfile="$out/${source#*/}.js"
done
for source in "${bunLean[@]}"; do
  node_modules/.bin/bun build "adapters/$source.ts" --target=bun --format=cjs --bytecode --minify \
    --outdir="$out" >/dev/null
  name="${source#*/}"
  if ! head -c 64 "$out/$name.js" | grep -qF '@bytecode' || [ ! -s "$out/$name.js.jsc" ]; then
    echo "build-bin: Bun built $name.js without its bytecode" >&2
    exit 1
  fi
done
# The entry's imports of the other tiers, as main.ts spells them: ./X.ts in adapters/cli, ../runtime/X.ts otherwise
specifiers=()
for source in "${full[@]}" "${lean[@]}" "${bunLean[@]}"; do
  case "$source" in cli/*) specifiers+=("./${source#cli/}.ts") ;; *) specifiers+=("../$source.ts") ;; esac
done
node_modules/.bin/esbuild adapters/cli/main.ts "${common[@]}" --outfile="$out/sa-token.js" \
  $(printf -- '--external:%s ' "${specifiers[@]}")
for specifier in "${specifiers[@]}"; do
  grep -qF "\"$specifier\"" "$out/sa-token.js" || { echo "build-bin: the entry does not import $specifier" >&2; exit 1; }
  name=$(basename "$specifier" .ts)
  sed -i "s#\"${specifier//./\\.}\"#\"./$name.js\"#g" "$out/sa-token.js"
done
for file in sa-token "${lean[@]#*/}"; do
  if grep -qF 'node:module' "$out/$file.js"; then
    echo "build-bin: $file.js imports node:module, which only the full CLI's files may" >&2
    exit 1
  fi
done
if grep -qE '"node:' "$out/DenoLeanHost.js"; then
  echo "build-bin: DenoLeanHost.js imports a node: module" >&2
  exit 1
fi
chmod +x "$out/sa-token.js"
