#!/usr/bin/env node
// A native-solc command line over the npm `solc` package (soljson, the compiler Hardhat
// uses), for forge: its own compiler manager downloads native binaries, which this
// project's machines cannot reach. foundry.toml names this file as `solc`; forge asks
// `--version` and then compiles with `--standard-json` on stdin, every source's content
// inlined in the input, so no import callback is needed.
import { createRequire } from "node:module";

const solc = createRequire(import.meta.url)("solc");
const args = process.argv.slice(2);

if (args.includes("--version")) {
  // forge reads the semver from the last line, as native solc prints it.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
} else if (args.includes("--standard-json")) {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  process.stdout.write(solc.compile(Buffer.concat(chunks).toString("utf8")));
} else {
  process.stderr.write(`solc.mjs: only --version and --standard-json are supported, got: ${args.join(" ")}\n`);
  process.exit(2);
}
