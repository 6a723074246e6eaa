/**
 * Both lean `exec-credential` answers in one module, for Bun: the bundled bin ships it, and Bun's host, compiled to
 * Bun's bytecode (`scripts/build-bin.sh`), which Bun loads without parsing or compiling them. On Bun, parsing and
 * compiling the code a lean answer runs costs about as much as the runtime's whole start. Node and Deno load each
 * answer's own module instead.
 *
 * @module
 */
export { run as cache } from "./ExecCredentialCacheHit.ts"
export { run as socket } from "./ExecCredentialSocketHit.ts"
