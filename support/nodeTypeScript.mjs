/**
 * `node --import ./support/nodeTypeScript.mjs` runs the TypeScript test files and sources under Node: it registers the
 * load hook of `nodeTypeScriptHooks.mjs` and turns source maps on, so that stack traces name the TypeScript lines. It
 * does for the Node suite what `--import tsx` does, with only the hook these files need (tsx also hooks resolution,
 * which costs every module it loads a round trip to the hooks thread).
 */
import { register } from "node:module"
import process from "node:process"

process.setSourceMapsEnabled(true)
register("./nodeTypeScriptHooks.mjs", import.meta.url)
