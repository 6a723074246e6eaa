/**
 * Module hooks that let Node run this repository's TypeScript sources and tests: each `file:` URL ending in `.ts` is
 * read and stripped of its types by esbuild (one file at a time, as an ES module, with an inline source map); every
 * other module goes to Node's own loader untouched. The sources import each other with explicit `.ts` extensions and use
 * no path aliases, so Node's own resolution serves and no resolve hook is needed: each hook is a round trip to the
 * hooks thread for every module Node loads, Effect's hundreds of files included.
 */
import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { transform } from "esbuild"

/** Node's `load` hook: TypeScript files are transformed, everything else is passed on. */
export const load = async (url, context, nextLoad) => {
  if (!url.startsWith("file:") || !new URL(url).pathname.endsWith(".ts")) return nextLoad(url, context)
  const file = fileURLToPath(url)
  const { code } = await transform(await readFile(file, "utf8"), {
    loader: "ts",
    format: "esm",
    target: "node20",
    sourcefile: file,
    sourcemap: "inline",
  })
  return { format: "module", source: code, shortCircuit: true }
}
