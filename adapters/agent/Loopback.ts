/**
 * The one loopback rule of the agent, used to validate `endpoint.tcp.address` in the configuration and again by the
 * endpoint when it binds: `localhost`, `127.0.0.0/8` (also IPv4-mapped, `::ffff:127.x.y.z`) and `::1`, in any case,
 * with or without IPv6 brackets.
 *
 * @module
 */

/** Whether a host is a loopback address (`localhost`, `127.0.0.0/8`, `::1`). */
export const isLoopback = (host: string): boolean => {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase()
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}
