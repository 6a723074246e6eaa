/**
 * The package's version, the one place the code reads it from (the CLI's `version` command and `--version`, the
 * TokenRequest client's `User-Agent`). `deno.json` and `package.json` carry the same value; a test checks all three.
 *
 * @module
 */

/** The package version. */
export const version: string = "0.1.0"
