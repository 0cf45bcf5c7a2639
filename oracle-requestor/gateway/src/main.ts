#!/usr/bin/env node
/**
 * `npm run gateway`: the HTTP gateway (x402 payments relayed to the escrow). Reads its
 * settings from the environment (see the README's table, `--print-config-table`), prints
 * one JSON ready line with its URL and relayer, and stops on SIGINT / SIGTERM.
 */
import { setFlagsFromString } from "node:v8";

// Before anything is loaded: a smaller heap for an I/O-bound server (see GATEWAY_NODE_FLAGS).
setFlagsFromString("--optimize-for-size");
const { ConfigError, describeGatewaySettings, loadGatewayConfig } = await import("./config.ts");
const { startGateway } = await import("./gateway.ts");

if (process.argv.includes("--print-config-table")) {
  process.stdout.write(`${describeGatewaySettings()}\n`);
  process.exit(0);
}
// A closed stdout (the launcher gone) must not take the gateway down with an EPIPE.
process.stdout.on("error", () => {});
const log = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
try {
  const config = loadGatewayConfig(process.env);
  const gateway = await startGateway(config, log);
  process.stdout.write(`${JSON.stringify({ event: "ready", url: gateway.url, relayer: gateway.relayer })}\n`);
  const stop = () => void gateway.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (error) {
  process.stderr.write(`argus gateway: ${error instanceof ConfigError ? error.message : (error as Error).stack}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}
