/**
 * A unix socket reached through two symlinks, for the suites that resolve real paths: Node's realpath written in
 * JavaScript stops one link short of a socket or a FIFO, where realpath(3) follows the chain to its end.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as nodePath from "node:path"

/**
 * Listens on `<dir>/agent.sock`, links `<dir>/sub/one.sock` to it and `<dir>/two.sock` to that link, and runs `body`
 * with the second link and the socket's real path; the socket is closed afterwards, however `body` ends.
 */
export const withSocketBehindTwoLinks = async (
  dir: string,
  body: (link: string, real: string) => Promise<void>,
): Promise<void> => {
  const socket = nodePath.join(dir, "agent.sock")
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  try {
    fs.mkdirSync(nodePath.join(dir, "sub"))
    fs.symlinkSync(socket, nodePath.join(dir, "sub", "one.sock"))
    fs.symlinkSync(nodePath.join(dir, "sub", "one.sock"), nodePath.join(dir, "two.sock"))
    await body(nodePath.join(dir, "two.sock"), fs.realpathSync.native(socket))
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
}
