// The few Deno APIs adapters/deno and the bin entry use, for tsc (the npm build). Deno itself type-checks against its
// own types; this file is only listed in tsconfig.json.
declare namespace Deno {
  /** A signal a listener can be added for. */
  type Signal = "SIGHUP" | "SIGINT" | "SIGTERM" | "SIGUSR1" | "SIGUSR2" | "SIGQUIT" | "SIGWINCH"
  /** A custom HTTP client for `fetch` (`init.client`). */
  interface HttpClient {
    close(): void
  }
  /** TLS material for {@link createHttpClient}. */
  interface CreateHttpClientOptions {
    caCerts?: string[]
    cert?: string
    key?: string
  }
  /** What `stat` and `lstat` say of a file (the fields adapters/deno reads). */
  interface FileInfo {
    isFile: boolean
    size: number
    dev: number
    ino: number | null
    mode: number | null
    uid: number | null
    gid: number | null
  }
  /** An open file. */
  interface FsFile {
    statSync(): FileInfo
    readSync(buffer: Uint8Array): number | null
    close(): void
  }
  /** Errors Deno's calls throw. */
  namespace errors {
    class NotFound extends Error {}
    class NotADirectory extends Error {}
  }
  /** A connection (`connect`). */
  interface Conn {
    read(buffer: Uint8Array): Promise<number | null>
    write(data: Uint8Array): Promise<number>
    close(): void
  }
  function connect(options: { transport: "unix"; path: string }): Promise<Conn>
  function lstatSync(path: string): FileInfo
  function statSync(path: string): FileInfo
  function realPathSync(path: string): string
  function openSync(path: string, options: { read: boolean }): FsFile
  function cwd(): string
  function uid(): number | null
  const env: { get(name: string): string | undefined }
  function createHttpClient(options: CreateHttpClientOptions): HttpClient
  function addSignalListener(signal: Signal, handler: () => void): void
  function removeSignalListener(signal: Signal, handler: () => void): void
  function exit(code?: number): never
  const args: string[]
}
