/**
 * Runs an import under a view of the environment in which what the runtime refuses to read is unset.
 *
 * `@kubernetes/client-node`'s dependencies read the environment when they are loaded: `debug` lists every variable
 * (`Object.keys(process.env)`) and reads and deletes `DEBUG`, `ws` reads `WS_NO_BUFFER_UTIL` and `WS_NO_UTF_8_VALIDATE`. Deno
 * checks each of those reads against `--allow-env`, and listing every variable needs it unrestricted. Under the view, a
 * variable Deno refuses reads as unset and a refused listing is empty, so those dependencies load under an
 * `--allow-env` that names only the variables this package reads, and none of them sees a variable the flags do not
 * grant. On Node and Bun nothing is refused and the view is the environment itself.
 *
 * @module
 */
import process from "node:process"

/** Whether `error` is the runtime refusing a permission (Deno's `NotCapable`). */
const refused = (error: unknown): boolean => error instanceof Error && error.name === "NotCapable"

const attempt = <A>(read: () => A, otherwise: A): A => {
  try {
    return read()
  } catch (error) {
    if (refused(error)) return otherwise
    throw error
  }
}

/**
 * A view of `env` in which a variable the runtime refuses to read is unset and a refused listing is empty. Writes and
 * deletions go through to `env`, except refused ones, which are dropped (`debug` deletes `DEBUG` when it is unset). The target is a plain object: a proxy checks its invariants against its target's
 * keys, which would list the environment again.
 */
export const view = (env: Record<string, string | undefined>): Record<string, string | undefined> =>
  new Proxy<Record<string, string | undefined>>({}, {
    get: (_, name) => attempt(() => Reflect.get(env, name), undefined),
    has: (_, name) => attempt(() => Reflect.has(env, name), false),
    set: (_, name, value) => attempt(() => Reflect.set(env, name, value), true),
    deleteProperty: (_, name) => attempt(() => Reflect.deleteProperty(env, name), true),
    ownKeys: () => attempt(() => Reflect.ownKeys(env), []),
    getOwnPropertyDescriptor: (_, name) => {
      const value = attempt(() => Reflect.get(env, name), undefined)
      return value === undefined ? undefined : { value, writable: true, enumerable: true, configurable: true }
    },
  })

/**
 * Runs `load` (an import) with `process.env` replaced by its {@link view}, and puts the environment back when it
 * settles. Code running concurrently meanwhile reads the granted variables as before.
 */
export const load = async <A>(load: () => Promise<A>): Promise<A> => {
  const env = process.env
  process.env = view(env)
  try {
    return await load()
  } finally {
    process.env = env
  }
}
