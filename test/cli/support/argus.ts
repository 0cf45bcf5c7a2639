/**
 * Running `argus` in tests: in this process through `runArgus` with captured output
 * (fast; the same code path as the bin, minus process start-up), or as the real
 * `npx argus` child process where the bin itself and its exit code are under test.
 */
import { spawn } from "node:child_process";
import { runArgus } from "@argus/cli/main";
import { REPO_ROOT, withoutArgusSettings } from "../../support/shared.ts";

export interface ArgusRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as one JSON value. */
  json<T = Record<string, unknown>>(): T;
  /** stdout parsed as JSON lines. */
  lines<T = Record<string, unknown>>(): T[];
}

function run(code: number, stdout: string, stderr: string): ArgusRun {
  return {
    code,
    stdout,
    stderr,
    json: <T>() => JSON.parse(stdout) as T,
    lines: <T>() =>
      stdout
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as T),
  };
}

/** The environment without the caller's ARGUS_* settings (they would leak into what is tested). */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...withoutArgusSettings(), CI: "1", ...extra };
}

export async function argus(args: string[], env: NodeJS.ProcessEnv): Promise<ArgusRun> {
  let stdout = "";
  let stderr = "";
  const code = await runArgus(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { ...env },
  });
  return run(code, stdout, stderr);
}

/** `npx argus …` in the repository, as a user would type it. */
export function argusProcess(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<ArgusRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["--no-install", "argus", ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutMs,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.on("error", reject);
    // npm's own warnings are kept: a user would see them, and the bin's test fails on any.
    child.on("close", (code, signal) => resolve(run(code ?? (signal ? 128 : 1), stdout, stderr)));
  });
}
