/**
 * The Golem devnet for `npm run bench:e2e -- --executor golem-devnet`, set up as
 * `npm start -- --golem-devnet` does it: the provider image built from this checkout
 * (kept when its record names the same inputs), the devnet's own entry point as a child
 * process serving it, the bench stack's models registered with its hash, and the
 * oracle's settings for its Golem executor — golem-js through HTTP and WebSocket, the
 * chunks inside the image under bubblewrap. The executor rents as many providers at once
 * as the local executor runs chunks (ARGUS_GOLEM_POOL_SIZE changes it).
 */
import { join } from "node:path";
import type { OracleConfig } from "@argus/oracle/config";
import { resolveSettings as devnetSettings } from "@argus/golem-devnet/config";
import { modelAdminContext } from "@argus/devchain";
import { DEFAULT_MODEL_TERMS, providerImageHashWord, registerManifests } from "@argus/escrow/model-registration";
import { readImageRecord } from "@argus/provider-image/build-output";
import { buildImage } from "@argus/provider-image/build-image";
import { BUILTIN_MANIFESTS_DIR, listManifests } from "@argus/provider-image/catalog";
import { imageBuildSettings } from "@argus/provider-image/image-inputs";
import { resolveReferencePhotosDir } from "@argus/provider-image/reference-set";
import type { Stack } from "../../test/oracle/support/stack.ts";
import { SHARED_MODELS_DIR } from "../../test/support/shared.ts";
import { checkGolemDevnetTools, type DevnetReady, devnetEnvironment, GOLEM_DEVNET_MAIN, parseDevnetReady } from "../stack/stack-golem.ts";
import { consoleLog } from "../stack/stack-log.ts";
import { Component } from "../stack/stack-process.ts";
import { REPO_ROOT } from "../stack/stack-settings.ts";

export interface BenchDevnet {
  ready: DevnetReady;
  imageHash: string;
  /** The oracle's settings for its Golem executor on this devnet. */
  oracleOverrides: Partial<Record<keyof OracleConfig, unknown>>;
  close(): Promise<void>;
}

/** The devnet as its own process, serving the provider image built from this checkout. */
export interface DevnetProcess {
  ready: DevnetReady;
  imageHash: string;
  close(): Promise<void>;
}

export async function startDevnetProcess(): Promise<DevnetProcess> {
  // Any free port: the bench must not collide with a stack the user is running.
  const env = {
    ...process.env,
    ARGUS_GOLEM_DEVNET_PORT: "0",
    ARGUS_GOLEM_DEVNET_LOG_LEVEL: process.env.ARGUS_GOLEM_DEVNET_LOG_LEVEL ?? "warn",
  };
  const settings = devnetSettings([], env);
  await checkGolemDevnetTools(false);
  const built = await buildImage({
    repoRoot: REPO_ROOT,
    modelsDir: process.env.ARGUS_MODELS_DIR ?? SHARED_MODELS_DIR,
    referencePhotos: { dir: resolveReferencePhotosDir(process.env.ARGUS_REFERENCE_PHOTOS_DIR) },
    outputDir: join(settings.image, ".."),
    reuse: true,
    ...imageBuildSettings(env),
    log: (line) => console.log(`[image] ${line}`),
  });
  const image = await readImageRecord(built.file);
  const devnet = new Component({
    name: "devnet",
    module: GOLEM_DEVNET_MAIN,
    env: devnetEnvironment(image, env),
    cwd: REPO_ROOT,
    log: consoleLog(),
  });
  try {
    const ready = parseDevnetReady(await devnet.ready, image);
    // golem-js resolves the image hash through the registry it finds here.
    process.env.GOLEM_REGISTRY_URL = ready.registryUrl;
    return { ready, imageHash: image.hash, close: async () => void (await devnet.stop(30_000)) };
  } catch (error) {
    await devnet.stop(5_000);
    throw error;
  }
}

export async function startBenchDevnet(stack: Stack): Promise<BenchDevnet> {
  const devnet = await startDevnetProcess();
  const { ready } = devnet;
  try {
    // The models order the image by the hash the registry records, as on a real deployment.
    await registerManifests(modelAdminContext(stack.chain.rpcUrl, stack.argus.escrow), await listManifests([BUILTIN_MANIFESTS_DIR]), {
      ...DEFAULT_MODEL_TERMS,
      providerImageHash: providerImageHashWord(devnet.imageHash),
    });
    return {
      ready,
      imageHash: devnet.imageHash,
      oracleOverrides: {
        executor: "golem",
        golem: {
          apiUrl: ready.url,
          apiKey: ready.appKey,
          paymentNetwork: "hoodi",
          // As many chunks at once as the local executor it is compared with runs (ARGUS_LOCAL_CONCURRENCY):
          // the providers share this machine's cores, so more would only make each chunk slower.
          poolSize: Number(process.env.ARGUS_GOLEM_POOL_SIZE ?? stack.oracleConfig().localConcurrency),
          // The executor against the local one, like for like: no chunk computed twice.
          // What cross-checking providers costs is its own benchmark (npm run bench:audit).
          auditRate: 0,
          auditFirstChunks: 0,
        },
      },
      close: devnet.close,
    };
  } catch (error) {
    await devnet.close();
    throw error;
  }
}
