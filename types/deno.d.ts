// The few Deno APIs adapters/deno uses, for tsc (the npm build). Deno itself type-checks against its own types; this
// file is only listed in tsconfig.json.
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
  function createHttpClient(options: CreateHttpClientOptions): HttpClient
  function addSignalListener(signal: Signal, handler: () => void): void
  function removeSignalListener(signal: Signal, handler: () => void): void
  function exit(code?: number): never
  const args: string[]
}
