/**
 * `npm run test:forge`: forge from the npm package @foundry-rs/forge, run as its
 * platform binary so that its exit code counts (the package's `bin` wrapper always
 * exits 0, so a failing Solidity test would pass `npm test`).
 */
import { spawn } from "node:child_process";
import { foundryBinary } from "@argus/devchain/anvil";

const child = spawn(foundryBinary("forge"), process.argv.slice(2), { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
