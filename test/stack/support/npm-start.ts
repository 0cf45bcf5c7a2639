/**
 * `npm start` as a child process, the way a terminal runs it: in a process group of
 * its own, so `interrupt()` sends SIGINT to the whole group exactly like Ctrl-C.
 * Also: free ports for a stack that must not collide with anything else on the
 * machine, and the process tree under a pid, to check nothing outlives the stack.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { REPO_ROOT } from "../../support/shared.ts";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NpmStart {
  child: ChildProcess;
  pid: number;
  /** Everything it printed so far (stdout and stderr interleaved, npm warnings dropped). */
  output(): string;
  /** Resolves when a line containing `text` has been printed; rejects on exit or timeout. */
  waitFor(text: string, timeoutMs: number): Promise<void>;
  exited: Promise<Exit>;
  /** Ctrl-C: SIGINT to the process group; resolves with npm's exit. */
  interrupt(timeoutMs?: number): Promise<Exit>;
  /** SIGKILL to the group and every process under it (cleanup after a failure). */
  kill(): void;
}

/** `npm start` (with `-- <args>` when given). */
export function npmStart(env: NodeJS.ProcessEnv, args: string[] = []): NpmStart {
  const child = spawn("npm", ["start", ...(args.length > 0 ? ["--", ...args] : [])], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const pid = child.pid!;
  let text = "";
  const waiters = new Set<() => void>();
  const take = (chunk: string) => {
    text += chunk
      .split("\n")
      .filter((line) => !line.startsWith("npm warn"))
      .join("\n");
    for (const check of [...waiters]) check();
  };
  child.stdout!.setEncoding("utf8").on("data", take);
  child.stderr!.setEncoding("utf8").on("data", take);
  const exited = new Promise<Exit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const tail = () => text.split("\n").slice(-40).join("\n");
  return {
    child,
    pid,
    output: () => text,
    waitFor(needle, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`no "${needle}" within ${timeoutMs} ms; output so far:\n${tail()}`)), timeoutMs);
        const check = () => text.includes(needle) && done();
        const done = (error?: Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve();
        };
        waiters.add(check);
        void exited.then((exit) =>
          done(new Error(`npm start exited (${exit.signal ?? exit.code}) before "${needle}"; output:\n${tail()}`)),
        );
        check();
      });
    },
    exited,
    async interrupt(timeoutMs = 60_000) {
      process.kill(-pid, "SIGINT");
      const timer = setTimeout(() => this.kill(), timeoutMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
    kill() {
      for (const descendant of descendants(pid)) signal(descendant, "SIGKILL");
      signal(-pid, "SIGKILL");
    },
  };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone
  }
}

/** Every process below `pid` (children, grandchildren, …), from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    // pid (comm) state ppid …; comm may contain spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const child of children.get(parent) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is dead for our purposes.
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** `count` distinct TCP ports that were free a moment ago. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve) => {
          const server = createServer();
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** The pid of the process under `pid` whose command line runs `module` (e.g. the oracle's main.ts). */
export function processRunning(pid: number, module: string): number | undefined {
  return descendants(pid).find((candidate) => {
    try {
      return readFileSync(`/proc/${candidate}/cmdline`, "utf8")
        .split("\0")
        .some((arg) => arg.endsWith(module));
    } catch {
      return false;
    }
  });
}

/** How many times `text` occurs in what the stack printed. */
export function occurrences(stack: NpmStart, text: string): number {
  return stack.output().split(text).length - 1;
}
