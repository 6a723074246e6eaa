/**
 * A hostile local user's moves, made deterministic: a user who can write a token file's directory renames a symlink
 * to a victim file over the writer's temporary file, either right after the writer created it or right before the
 * writer renames it into place. The move runs inside the writer's own calls: the `node:fs` system calls of the
 * PrivateFile port, and the by-path `chmod` and `rename` of @effect/platform's FileSystem (what the writers called
 * before they went through the port), so the same test catches both.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeLocalHttp from "../../adapters/platform/NodeLocalHttp.ts"
import * as NodePrivateFile from "../../adapters/platform/NodePrivateFile.ts"
import * as NodeProcessControl from "../../adapters/platform/NodeProcessControl.ts"
import type { Syscalls } from "../../adapters/platform/NodePrivateFile.ts"
import * as PrivateFile from "../../adapters/platform/PrivateFile.ts"
import type { Platform } from "./platform.ts"
import { removeDir, withTempDir } from "./scratch.ts"

/** Mode, owner, group and content of a file (not following a symlink for the metadata). */
export const snapshot = (path: string) => {
  const info = fs.lstatSync(path)
  return { mode: info.mode & 0o7777, uid: info.uid, gid: info.gid, content: fs.readFileSync(path, "utf8") }
}

/**
 * A file of the test's user (root when run as root) with the given mode (only its owner may touch it by default), in
 * a 0700 directory of its own.
 */
export const victimFile = (mode = 0o600): string => {
  const path = nodePath.join(fs.mkdtempSync(nodePath.join(os.tmpdir(), "victim-")), "shadow")
  fs.writeFileSync(path, "precious", { mode })
  fs.chmodSync(path, mode)
  return path
}

/**
 * Runs `body` with a fresh temporary directory and a victim file (see `victimFile`), and removes both once `body` ends,
 * however it ends.
 */
export const withVictim = <A>(prefix: string, body: (dir: string, victim: string) => A | Promise<A>): Promise<A> =>
  withTempDir(prefix, async (dir) => {
    const victim = victimFile()
    try {
      return await body(dir, victim)
    } finally {
      removeDir(nodePath.dirname(victim))
    }
  })

/** Renames a symlink to `victim` over `path`, as a user who can write its directory can. */
export const swapForSymlink = (path: string, victim: string): void => {
  const evil = `${path}.evil`
  fs.symlinkSync(victim, evil)
  fs.renameSync(evil, path)
}

/** A race that the attacker wins at a chosen point, `times` times. */
export interface Race {
  /** The port's system calls, with the attacker's move inside. */
  readonly sys: Syscalls
  /** The platform (FileSystem, Path, CommandExecutor and the runtime ports) with the attacker's move inside. */
  readonly layer: Layer.Layer<Platform>
  /** How many times the attacker moved. */
  readonly fired: () => number
}

/**
 * The attacker renames a symlink to `victim` over each temporary file (`*.tmp`) of the writers: right after it was
 * created (`open`), or right before it is renamed into place (`rename`).
 */
export const race = (victim: string, at: "open" | "rename", times = 1): Race => {
  let fired = 0
  const temporaries = new Set<string>()
  const move = (path: string) => {
    if (fired >= times) return
    fired++
    swapForSymlink(path, victim)
  }
  const sys: Syscalls = {
    ...NodePrivateFile.syscalls,
    open: async (path, flags, mode) => {
      const fd = await NodePrivateFile.syscalls.open(path, flags, mode)
      if (path.endsWith(".tmp")) {
        temporaries.add(path)
        if (at === "open") move(path)
      }
      return fd
    },
    rename: (from, to) => {
      if (at === "rename" && temporaries.has(from)) move(from)
      return NodePrivateFile.syscalls.rename(from, to)
    },
  }
  const hooked = Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (fileSystem) =>
      FileSystem.FileSystem.of({
        ...fileSystem,
        // The first by-path call after a temporary file was created was its chmod.
        chmod: (path, mode) =>
          Effect.suspend(() => {
            if (at === "open" && path.endsWith(".tmp") && !temporaries.has(path)) temporaries.add(path), move(path)
            return fileSystem.chmod(path, mode)
          }),
        rename: (from, to) =>
          Effect.suspend(() => {
            if (at === "rename" && from.endsWith(".tmp")) move(from)
            return fileSystem.rename(from, to)
          }),
      })),
  ).pipe(Layer.provide(NodeContext.layer))
  return {
    sys,
    layer: Layer.mergeAll(
      NodeContext.layer,
      hooked,
      PrivateFile.layer(NodePrivateFile.make(sys)),
      NodeLocalHttp.layer,
      NodeProcessControl.layer,
    ),
    fired: () => fired,
  }
}
