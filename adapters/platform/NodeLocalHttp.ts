/**
 * {@link LocalHttp} over `node:http`, which serves and reaches a unix socket or a TCP address the same way in Deno,
 * Node and Bun. Connections are limited by {@link Connections.guard}; unix sockets are bound by `UnixSocket.ts`.
 *
 * @module
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import * as http from "node:http"
import * as Connections from "./Connections.ts"
import { describe, errnoOf as codeOf, LocalHttp, LocalHttpError } from "./LocalHttp.ts"
import type { Address, GetOptions, ListenAddress, Reply, Request, Response, ServeOptions } from "./LocalHttp.ts"
import * as UnixSocket from "./UnixSocket.ts"

const messageOf = (error: unknown): string => String((error as Error | null)?.message ?? error)

const size = (req: http.IncomingMessage): number =>
  (req.url ?? "").length + (req.method ?? "").length + req.rawHeaders.reduce((n, part) => n + part.length + 2, 0)

const write = (res: http.ServerResponse, response: Response): void => {
  const headers: Record<string, string> = { ...response.headers }
  if (response.close === true) headers["connection"] = "close"
  res.writeHead(response.status, headers)
  res.end(response.body)
}

const failed: Response = {
  status: 500,
  headers: { "content-type": "text/plain; charset=utf-8" },
  body: "internal error\n",
  close: true,
}

const listenTcp = (server: http.Server, host: string, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, host, () => {
      server.off("error", reject)
      resolve()
    })
  })

interface Started {
  readonly server: http.Server
  readonly guard: Connections.Guard
  readonly address: Address
  readonly inode: number
}

const close = ({ guard, server }: Pick<Started, "server" | "guard">): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => resolve())
    guard.destroyAll()
  })

const toError = (address: ListenAddress, error: unknown): LocalHttpError =>
  error instanceof LocalHttpError ? error : codeOf(error) === "EADDRINUSE"
    ? new LocalHttpError({
      reason: "AddressInUse",
      address: describe(address),
      code: "EADDRINUSE",
      detail: "the address is already in use",
    })
    : new LocalHttpError({
      reason: "Listen",
      address: describe(address),
      code: codeOf(error),
      detail: messageOf(error),
    })

const start = (options: ServeOptions, run: (effect: Effect.Effect<Response>) => Promise<Response>) =>
  Effect.tryPromise({
    try: async (): Promise<Started> => {
      const configured = options.address
      let address: Address = configured._tag === "Unix"
        ? { _tag: "Unix", path: configured.path }
        : { _tag: "Tcp", host: configured.host, port: configured.port }
      const server = http.createServer({ maxHeaderSize: options.maxHeaderBytes }, (req, res) => {
        const request: Request = {
          method: req.method ?? "",
          url: req.url ?? "/",
          headers: req.headers,
          size: size(req),
        }
        run(options.handle(request, address)).then((response) => write(res, response), () => write(res, failed))
      })
      const guard = Connections.guard(server, options.limits)
      try {
        if (configured._tag === "Unix") {
          const inode = await UnixSocket.bind(server, configured.path, configured.mode)
          return { server, guard, address, inode }
        }
        await listenTcp(server, configured.host, configured.port)
        const bound = server.address()
        address = {
          _tag: "Tcp",
          host: configured.host,
          port: typeof bound === "object" && bound !== null ? bound.port : 0,
        }
        return { server, guard, address, inode: 0 }
      } catch (error) {
        await close({ server, guard })
        throw error
      }
    },
    catch: (error) => toError(options.address, error),
  })

const stop = (started: Started) =>
  Effect.promise(async () => {
    await close(started)
    if (started.address._tag === "Unix") await UnixSocket.unbind(started.address.path, started.inode)
  })

const serve = (options: ServeOptions) =>
  Effect.gen(function* () {
    const run = Runtime.runPromise(yield* Effect.runtime<never>())
    const started = yield* Effect.acquireRelease(start(options, run), stop)
    return started.address
  })

const send = (address: Address, path: string, options: GetOptions): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const where = address._tag === "Unix" ? { socketPath: address.path } : { host: address.host, port: address.port }
    const fail = (reason: "Timeout" | "TooLarge", detail: string) =>
      new LocalHttpError({ reason, address: describe(address), code: "", detail })
    const req = http.request(
      { ...where, path, method: "GET", headers: { ...options.headers }, agent: false, timeout: options.timeoutMillis },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          body += chunk
          if (body.length > options.maxBytes) {
            // rejected before the destroyed response can end: what was read so far is not an answer
            reject(fail("TooLarge", `the answer exceeds ${options.maxBytes} characters`))
            req.destroy()
          }
        })
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
        res.on("error", reject)
      },
    )
    req.on("timeout", () => req.destroy(fail("Timeout", `no answer within ${options.timeoutMillis} ms`)))
    req.on("error", reject)
    req.end()
  })

const refused = new Set(["ENOENT", "ECONNREFUSED", "ENOTSOCK"])

/** Builds the service over `node:http`. */
export const make = (): LocalHttp => ({
  serve,
  get: (address, path, options) =>
    Effect.tryPromise({
      try: () => send(address, path, options),
      catch: (error) =>
        error instanceof LocalHttpError ? error : new LocalHttpError({
          reason: refused.has(codeOf(error)) ? "Refused" : "Failed",
          address: describe(address),
          code: codeOf(error),
          detail: messageOf(error),
        }),
    }),
})

/** A layer providing {@link make}. */
export const layer: Layer.Layer<LocalHttp> = Layer.sync(LocalHttp, make)
