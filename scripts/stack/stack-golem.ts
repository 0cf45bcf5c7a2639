/**
 * The Golem devnet side of `npm start -- --golem-devnet`:
 *
 * - the provider image: the .gvmi built from this checkout by `npm run
 *   build:provider-image`, reused as long as its record's inputs key is the checkout's
 *   (image-inputs.ts), built first otherwise — which needs root and mmdebstrap and
 *   squashfs-tools, said by name when they are missing;
 * - the devnet: `npm run golem-devnet`'s entry (oracle-requestor/golem-devnet/src/main.ts)
 *   as a process of its own, with its providers and the image in its registry;
 * - the oracle's settings for it: the Golem executor, exactly as with a real yagna, with
 *   the devnet's URL, app key and registry in place of yagna's and registry.golem.network.
 */
import { dirname, join } from "node:path";
import type { BuiltImageRecord } from "@argus/provider-image/build-output";
import { readImageRecord, verifyImageRecord } from "@argus/provider-image/build-output";
import { BUILD_TOOLS, missingTools } from "@argus/provider-image/build-image";
import { imageBuildSettings, imageInputsKey } from "@argus/provider-image/image-inputs";
import type { StackLog } from "./stack-log.ts";
import { describeExit, type Exit } from "./stack-process.ts";
import { type ExecutorSettings, REPO_ROOT, StackError } from "./stack-settings.ts";

export const BUILD_IMAGE_MAIN = join(REPO_ROOT, "provider-image/src/bin/build-image.ts");
export const GOLEM_DEVNET_MAIN = join(REPO_ROOT, "oracle-requestor/golem-devnet/src/main.ts");

type DevnetSettings = Extract<ExecutorSettings, { kind: "golem-devnet" }>;

/** What the devnet's exe-units run the image with. */
export const DEVNET_TOOLS: Readonly<Record<string, string>> = { bwrap: "bubblewrap", unsquashfs: "squashfs-tools" };

/** The devnet's ready line: where golem-js finds it, and who provides. */
export interface DevnetReady {
  url: string;
  appKey: string;
  registryUrl: string;
  providers: { id: string; name: string }[];
}

/** Says which Debian packages to install when a tool is missing; `build`: the image must be built too. */
export async function checkGolemDevnetTools(build: boolean): Promise<void> {
  const missing = await missingTools(build ? { ...BUILD_TOOLS, ...DEVNET_TOOLS } : DEVNET_TOOLS);
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((entry) => /Debian package (\S+)\)/.exec(entry)?.[1]))].join(" ");
    throw new StackError(
      `--golem-devnet needs ${missing.join(", ")}: apt-get install -y ${packages}` +
        (build
          ? " (to build the provider image, then to run it on the emulated providers)"
          : " (to run the image on the emulated providers)"),
    );
  }
  if (build && process.getuid?.() !== 0)
    throw new StackError(
      "--golem-devnet must build the provider image first, which needs root (mmdebstrap --mode=root): run it once as root",
    );
}

/**
 * The image at `settings.image` if it was built from this checkout's inputs, else
 * undefined (it must be built). `inputsKey` is the checkout's.
 */
export async function currentImage(
  settings: DevnetSettings,
  env: NodeJS.ProcessEnv,
): Promise<{ image: BuiltImageRecord | undefined; inputsKey: string }> {
  const inputsKey = await imageInputsKey({ repoRoot: REPO_ROOT, ...imageBuildSettings(env) });
  const image = await readImageRecord(settings.image).catch(() => undefined);
  if (image?.inputsKey !== inputsKey) return { image: undefined, inputsKey };
  const intact = await verifyImageRecord(image, { quick: true }).then(
    () => true,
    () => false,
  );
  return { image: intact ? image : undefined, inputsKey };
}

/** The folder the image is built in. */
export function imageDir(settings: DevnetSettings): string {
  return dirname(settings.image);
}

/** The arguments of `npm run build:provider-image` for this stack. */
export function buildImageArgs(settings: DevnetSettings, modelsDir: string): string[] {
  return ["--models-dir", modelsDir, "--output", imageDir(settings)];
}

/**
 * The devnet process's environment: the stack's (the user's ARGUS_GOLEM_DEVNET_*
 * settings reach it) with the image the stack checked; its work root stays its default,
 * outside the checkout.
 */
export function devnetEnvironment(image: BuiltImageRecord, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, ARGUS_GOLEM_DEVNET_IMAGE: image.imagePath };
}

/** The devnet's ready line, checked to serve `image`. */
export function parseDevnetReady(fields: Record<string, unknown>, image: BuiltImageRecord): DevnetReady {
  const { url, appKey, registryUrl, providers } = fields;
  const valid =
    typeof url === "string" &&
    typeof appKey === "string" &&
    typeof registryUrl === "string" &&
    Array.isArray(providers) &&
    providers.every((provider) => typeof provider?.id === "string" && typeof provider?.name === "string");
  if (!valid) throw new StackError(`the Golem devnet's ready line lacks url, appKey, registryUrl or providers: ${JSON.stringify(fields)}`);
  const served = (fields.image as { hash?: unknown } | undefined)?.hash;
  if (served !== image.hash) throw new StackError(`the Golem devnet serves image ${String(served)}, not the one built, ${image.hash}`);
  return { url, appKey, registryUrl, providers } as DevnetReady;
}

/**
 * What the oracle needs to run its Golem executor on the devnet — the same settings as
 * against a real yagna, pointing elsewhere. `forced` replaces whatever the environment
 * says (yagna's URL and key, the registry golem-js resolves image hashes with); the
 * `defaults` give way to the user's ARGUS_GOLEM_* settings: the devnet's providers are
 * paid on the hoodi platform (tGLM), and the pool rents as many as there are.
 */
export function oracleGolemEnvironment(devnet: DevnetReady): { defaults: NodeJS.ProcessEnv; forced: NodeJS.ProcessEnv } {
  return {
    defaults: { ARGUS_GOLEM_PAYMENT_NETWORK: "hoodi", ARGUS_GOLEM_POOL_SIZE: String(devnet.providers.length) },
    forced: {
      ARGUS_EXECUTOR: "golem",
      YAGNA_API_URL: devnet.url,
      YAGNA_APPKEY: devnet.appKey,
      GOLEM_REGISTRY_URL: devnet.registryUrl,
    },
  };
}

/** One line for the startup summary: where the chunks run. */
export function describeDevnet(devnet: DevnetReady, image: BuiltImageRecord): string[] {
  return [
    `Golem devnet ${devnet.url} (emulated yagna; registry ${devnet.registryUrl}, control ${devnet.url}/devnet/status)`,
    `${devnet.providers.length} providers: ${devnet.providers.map((provider) => `${provider.name} ${provider.id}`).join(", ")}`,
    `image ${image.hash} (${(image.sizeBytes / 1e6).toFixed(1)} MB, ${image.imagePath})`,
  ];
}

/** What starting the devnet needs of the launcher (stack-launch.ts): components it stops with the rest. */
export interface DevnetHost {
  env: NodeJS.ProcessEnv;
  log: StackLog;
  /** Starts a long-running component (restarted if it stops on its own); resolves its ready line. */
  spawn(name: string, module: string, env: NodeJS.ProcessEnv): { readonly ready: Promise<Record<string, unknown>> };
  runToEnd(name: string, module: string, env: NodeJS.ProcessEnv, args: string[]): Promise<{ exit: Exit; tail: string }>;
  /** Throws once the stack is being stopped. */
  checkStopped(): void;
}

export type ImagePlan = Awaited<ReturnType<typeof currentImage>>;
export type StackDevnet = { ready: DevnetReady; image: BuiltImageRecord };

/** Whether the provider image must be built, and the tools that takes (checked before anything starts). */
export async function planImage(settings: DevnetSettings, env: NodeJS.ProcessEnv): Promise<ImagePlan> {
  const plan = await currentImage(settings, env);
  await checkGolemDevnetTools(plan.image === undefined);
  return plan;
}

/** The provider image (built if its inputs changed), then the devnet serving it, as a component. */
export async function startGolemDevnet(
  host: DevnetHost,
  settings: DevnetSettings,
  modelsDir: string,
  plan: ImagePlan,
): Promise<StackDevnet> {
  let image = plan.image;
  if (image) {
    host.log.line("image", `provider image ${image.hash}: built from this checkout's inputs already (${image.imagePath})`);
  } else {
    host.log.line("image", `building the provider image into ${imageDir(settings)} (its inputs changed, or it was never built)…`);
    const started = performance.now();
    const { exit, tail } = await host.runToEnd("image", BUILD_IMAGE_MAIN, host.env, buildImageArgs(settings, modelsDir));
    host.checkStopped();
    if (exit.code !== 0) throw new StackError(`building the provider image failed (${describeExit(exit)})${tail}`);
    image = await readImageRecord(settings.image);
    await verifyImageRecord(image, { quick: true });
    if (image.inputsKey !== plan.inputsKey)
      throw new StackError(
        `${image.recordPath} does not record this checkout's inputs after the build: was the checkout changed meanwhile?`,
      );
    host.log.line("image", `built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  const component = host.spawn("devnet", GOLEM_DEVNET_MAIN, devnetEnvironment(image, host.env));
  const ready = parseDevnetReady(await component.ready, image);
  host.log.line("devnet", `emulated yagna at ${ready.url} with ${ready.providers.length} providers, serving image ${image.hash}`);
  return { ready, image };
}
