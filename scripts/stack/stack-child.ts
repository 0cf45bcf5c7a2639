/**
 * Runs one component of the local stack (`node stack-child.ts <module> [args…]`): loads
 * the module as if it had been started directly, and stops it (SIGTERM, then exit)
 * if the launcher disappears without stopping it — killed, or its terminal closed —
 * so a component is never left running on its own.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [target, ...args] = process.argv.slice(2);
if (target === undefined) {
  console.error("usage: node stack-child.ts <module> [args…]");
  process.exit(2);
}
process.argv = [process.argv[0]!, resolve(target), ...args];

const launcher = process.ppid;
const watchdog = setInterval(() => {
  if (process.ppid === launcher) return;
  clearInterval(watchdog);
  process.kill(process.pid, "SIGTERM");
  setTimeout(() => process.exit(1), 10_000).unref();
}, 1_000);
watchdog.unref();

await import(pathToFileURL(resolve(target)).href);
