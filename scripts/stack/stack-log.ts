/**
 * The local stack's console: one line per event, prefixed with the component it came
 * from (`[chain]`, `[ipfs]`, `[oracle]`, `[ui]`, `[argus]` for the launcher itself),
 * coloured on a terminal. The oracle logs pino JSON; those lines are shown as
 * `12:03:04 INFO message key=value …` rather than raw JSON.
 */
const COLOURS: Record<string, string> = { argus: "1", chain: "35", ipfs: "36", oracle: "33", ui: "32", models: "34" };
const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
const PINO_HIDDEN = new Set(["level", "time", "pid", "hostname", "msg", "service"]);

export interface StackLog {
  line(component: string, text: string): void;
}

export function consoleLog(stream: NodeJS.WriteStream = process.stdout): StackLog {
  const colour = stream.isTTY === true && !process.env.NO_COLOR;
  const width = Math.max(...Object.keys(COLOURS).map((name) => name.length)) + 2;
  return {
    line(component, text) {
      const prefix = `[${component}]`.padEnd(width);
      const code = COLOURS[component] ?? "0";
      for (const part of text.split("\n")) stream.write(`${colour ? `\x1b[${code}m${prefix}\x1b[0m` : prefix} ${part}\n`);
    },
  };
}

/** A pino JSON line as readable text; other lines unchanged. */
export function formatLogLine(line: string): string {
  if (!line.startsWith("{")) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry.level !== "number" || typeof entry.msg !== "string") return line;
  const time = typeof entry.time === "number" ? new Date(entry.time).toTimeString().slice(0, 8) : "";
  const fields = Object.entries(entry)
    .filter(([key]) => !PINO_HIDDEN.has(key))
    .map(([key, value]) => `${key}=${typeof value === "object" && value !== null ? JSON.stringify(value) : String(value)}`);
  return [time, (LEVELS[entry.level] ?? String(entry.level)).padEnd(5), entry.msg, ...fields].filter((part) => part !== "").join(" ");
}
