/**
 * `npm run ipfs`: runs the embedded IPFS node until SIGINT or SIGTERM.
 *
 * Prints exactly one line on stdout once both servers listen, for a parent process
 * to wait for:
 *   {"event":"ready","api":"http://127.0.0.1:5001","gateway":"http://127.0.0.1:8080","peerId":"12D3…","dataDir":"…"}
 * Everything else goes to stderr.
 */
import { ConfigError, resolveOptions, usage } from "./config.ts";
import { startEmbeddedIpfs } from "./embedded.ts";

async function main(): Promise<void> {
  let settings: ReturnType<typeof resolveOptions>;
  try {
    settings = resolveOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`ipfs: ${error.message}\n\n${usage()}`);
    process.exit(2);
  }
  const { help, ...options } = settings;
  if (help) {
    console.log(usage());
    return;
  }

  const ipfs = await startEmbeddedIpfs(options);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`ipfs: ${signal} again, exiting without a clean shutdown`);
      process.exit(1);
    }
    stopping = true;
    console.error(`ipfs: ${signal}, shutting down`);
    ipfs.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("ipfs: shutdown failed:", error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);

  console.error(
    `ipfs: embedded node ${ipfs.peerId} (${options.networking ? "networking on" : "offline"}), data in ${options.dataDir}\n` +
      `ipfs: RPC API ${ipfs.apiUrl}/api/v0, gateway ${ipfs.gatewayUrl}/ipfs/<cid>, ` +
      `uploads up to ${options.maxUploadBytes} bytes, browser origins: ${options.corsOrigins.join(", ") || "none"}`,
  );
  process.stdout.write(
    `${JSON.stringify({
      event: "ready",
      api: ipfs.apiUrl,
      gateway: ipfs.gatewayUrl,
      peerId: ipfs.peerId,
      dataDir: options.dataDir,
    })}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(`ipfs: ${(error as Error).message ?? error}`);
  process.exit(1);
});
