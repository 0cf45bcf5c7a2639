/**
 * How commands talk: the answer on stdout (text for people, JSON with `--json`), and
 * progress for people on stderr — a spinner only when stderr is a terminal, and
 * nothing at all in `--json` mode, so a machine reading stdout gets exactly the JSON.
 */
export type Writer = { write(text: string): unknown; isTTY?: boolean };

export interface Io {
  stdout: Writer;
  stderr: Writer;
  /** The environment (main.ts reads the settings from it; `oracle start` passes it on). */
  env: NodeJS.ProcessEnv;
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_, item) => (typeof item === "bigint" ? item.toString() : item), indent);
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export class Output {
  readonly json: boolean;
  private readonly io: Io;
  private spinnerText: string | undefined;
  private spinnerTimer: NodeJS.Timeout | undefined;
  private frame = 0;
  private lastPlain = "";

  constructor(io: Io, json: boolean) {
    this.io = io;
    this.json = json;
  }

  private get tty(): boolean {
    return this.io.stderr.isTTY === true && !this.io.env.CI;
  }

  /** The command's answer, as JSON (one line) in `--json` mode. */
  data(value: unknown): void {
    this.io.stdout.write(`${toJson(value)}\n`);
  }

  /** The command's answer for people (ignored in `--json` mode). */
  text(line = ""): void {
    if (!this.json) this.io.stdout.write(`${line}\n`);
  }

  /** A progress line for people, on stderr. */
  note(line: string): void {
    if (this.json) return;
    this.clearSpinner();
    this.io.stderr.write(`${line}\n`);
    this.drawSpinner();
  }

  /** Warnings go to stderr in every mode. */
  warn(line: string): void {
    this.clearSpinner();
    this.io.stderr.write(`warning: ${line}\n`);
    this.drawSpinner();
  }

  /**
   * Shows `text` as the current activity: an animated line on a terminal; elsewhere a
   * plain line each time the text changes (without counters, so logs stay short).
   */
  spin(text: string, plain = text): void {
    if (this.json) return;
    this.spinnerText = text;
    if (!this.tty) {
      if (plain !== this.lastPlain) this.io.stderr.write(`${plain}\n`);
      this.lastPlain = plain;
      return;
    }
    if (this.spinnerTimer === undefined) {
      this.spinnerTimer = setInterval(() => this.drawSpinner(), 100);
      this.spinnerTimer.unref();
    }
    this.drawSpinner();
  }

  /** Ends the activity, leaving `finalLine` (if any) in its place. */
  done(finalLine?: string): void {
    this.clearSpinner();
    if (this.spinnerTimer !== undefined) clearInterval(this.spinnerTimer);
    this.spinnerTimer = undefined;
    this.spinnerText = undefined;
    this.lastPlain = "";
    if (finalLine !== undefined && !this.json) this.io.stderr.write(`${finalLine}\n`);
  }

  private drawSpinner(): void {
    if (this.spinnerText === undefined || !this.tty || this.spinnerTimer === undefined) return;
    this.frame = (this.frame + 1) % FRAMES.length;
    this.io.stderr.write(`\r\x1b[K${FRAMES[this.frame]} ${this.spinnerText}`);
  }

  private clearSpinner(): void {
    if (this.spinnerTimer !== undefined && this.tty) this.io.stderr.write("\r\x1b[K");
  }
}

/** An error's first line (viem's short message when it has one: its full message is a page). */
export function firstLine(error: unknown): string {
  const shortMessage = (error as { shortMessage?: unknown }).shortMessage;
  const message = typeof shortMessage === "string" ? shortMessage : error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!;
}
