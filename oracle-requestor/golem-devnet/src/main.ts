/**
 * `npm run golem-devnet`: the emulated yagna and providers until SIGINT or SIGTERM.
 *
 * Prints exactly one line on stdout once it listens, for a parent process to wait for:
 *   {"event":"ready","url":"http://127.0.0.1:7465","appKey":"…","registryUrl":"…/registry",
 *    "image":{"hash":"…","url":"…"},"providers":[{"id":"0x…","name":"devnet-provider-1"},…]}
 * Everything else goes to stderr. Point golem-js (the oracle's Golem executor) at it with
 * YAGNA_API_URL=<url>, YAGNA_APPKEY=<appKey> and GOLEM_REGISTRY_URL=<registryUrl> (or
 * ARGUS_GOLEM_IMAGE_URL=<image.url with the hash replaced by {hash}>).
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { sha3_224OfFile } from "@argus/provider-image/build-image";
import { ConfigError, imagePresent, resolveSettings, usage } from "./config.ts";
import { startGolemDevnet } from "./devnet.ts";
import { requireSandboxTools } from "./exe-unit/image-cache.ts";
import { stderrLog } from "./log.ts";

async function imageHashOf(file: string): Promise<string> {
  // The build writes image.json beside the image; trust it only if it names this file.
  const built = await readFile(join(dirname(file), "image.json"), "utf8")
    .then((text) => JSON.parse(text) as { file?: string; hash?: string })
    .catch(() => undefined);
  if (built?.hash && built.file && join(dirname(file), built.file) === file) return built.hash;
  return sha3_224OfFile(file);
}

async function main(): Promise<void> {
  let settings: ReturnType<typeof resolveSettings>;
  try {
    settings = resolveSettings(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`golem-devnet: ${error.message}\n\n${usage()}`);
    process.exit(2);
  }
  if (settings.help) {
    console.log(usage());
    return;
  }
  await requireSandboxTools();
  const log = stderrLog(settings.logLevel);
  const images = [];
  if (imagePresent(settings)) images.push({ file: settings.image, sha3: await imageHashOf(settings.image) });
  else log("warn", `no provider image at ${settings.image}: build one with \`npm run build:provider-image\` (the registry serves none)`);

  const devnet = await startGolemDevnet({
    host: settings.host,
    port: settings.port,
    appKey: settings.appKey,
    providers: Array.from({ length: settings.providers }, (_, index) => ({
      name: `devnet-provider-${index + 1}`,
      threads: settings.threads,
      memoryGib: settings.memoryGib,
      storageGib: settings.storageGib,
      prices: { start: settings.startPriceGlm, envPerHour: settings.envPerHourGlm, cpuPerHour: settings.cpuPerHourGlm },
      speed: settings.speed,
    })),
    workRoot: settings.workRoot,
    strict: settings.strict,
    walletGlm: settings.walletGlm,
    yagnaVersion: settings.yagnaVersion,
    latencyMs: settings.latencyMs,
    images,
    log,
  });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log("info", `${signal}, shutting down`);
    devnet.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("golem-devnet: shutdown failed:", error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);

  const image = images[0] && { hash: images[0].sha3, url: `${devnet.registryUrl}/download/${images[0].sha3}` };
  log(
    "info",
    `yagna API ${devnet.url} (app key ${devnet.appKey}), registry ${devnet.registryUrl}, control API ${devnet.url}/devnet/status`,
  );
  process.stdout.write(
    `${JSON.stringify({ event: "ready", url: devnet.url, appKey: devnet.appKey, registryUrl: devnet.registryUrl, image, providers: devnet.providers })}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(`golem-devnet: ${(error as Error).message ?? error}`);
  process.exit(1);
});
