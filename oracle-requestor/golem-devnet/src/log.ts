/** The devnet's log: one function, so that tests can keep it quiet and main.ts can print it. */
export type LogLevel = "debug" | "info" | "warn" | "error";

export type DevnetLog = (level: LogLevel, message: string, details?: Record<string, unknown>) => void;

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Writes lines at or above `minimum` to stderr: `golem-devnet: [level] message {details}`. */
export function stderrLog(minimum: LogLevel = "info"): DevnetLog {
  return (level, message, details) => {
    if (ORDER[level] < ORDER[minimum]) return;
    const extra = details && Object.keys(details).length > 0 ? ` ${JSON.stringify(details, errorReplacer)}` : "";
    process.stderr.write(`golem-devnet: [${level}] ${message}${extra}\n`);
  };
}

export const silentLog: DevnetLog = () => {};

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}
