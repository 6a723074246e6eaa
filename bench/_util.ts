/**
 * Small helpers shared by the agent benchmarks: tables, medians, call-time statistics, the runtime's name.
 */
import process from "node:process"

/** The runtime running this process. */
export const runtimeName = (): string => {
  const host = globalThis as unknown as { Deno?: { version: { deno: string } }; Bun?: { version: string } }
  return host.Deno !== undefined
    ? `Deno ${host.Deno.version.deno}`
    : host.Bun !== undefined
    ? `Bun ${host.Bun.version}`
    : `Node ${process.version}`
}

/** A number with thousands separators and at most `digits` decimals. */
export const fmt = (x: number, digits = 0): string =>
  Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: digits }) : String(x)

export const median = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return NaN
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Prints a Markdown table (so that the output can be pasted into docs/benchmarks.md as it is). */
export const printTable = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): void => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => (c ?? "").padEnd(widths[i]!)).join(" | ")} |`
  console.log(line(headers))
  console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`)
  for (const row of rows) console.log(line(row))
}

/** Sorted call times → the most calls in any window [t, t + 1 s). */
export const maxPerSecond = (sorted: ReadonlyArray<number>): number => {
  let best = 0
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= 1000) i++
    best = Math.max(best, j - i + 1)
  }
  return best
}

/** A text histogram: one line per bucket, a bar scaled to the largest bucket. */
export const histogram = (labels: ReadonlyArray<string>, counts: ReadonlyArray<number>, width = 50): void => {
  const most = Math.max(1, ...counts)
  const labelWidth = Math.max(...labels.map((l) => l.length))
  const countWidth = Math.max(...counts.map((c) => fmt(c).length))
  for (let i = 0; i < counts.length; i++) {
    const bar = "#".repeat(Math.round((counts[i]! / most) * width))
    console.log(`  ${labels[i]!.padEnd(labelWidth)} ${fmt(counts[i]!).padStart(countWidth)} ${bar}`)
  }
}

/** Real-time sleep. */
export const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis))
