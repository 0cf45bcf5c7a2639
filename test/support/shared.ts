/**
 * Where the test data lives: `../shared` beside the checkout (models, labelled photos),
 * overridable with ARGUS_SHARED_DIR. Suites that need it call `requireSharedData` in a
 * `before` hook: when the folder is absent the suite is skipped with a message saying
 * why, never silently passed.
 *
 * The shared photos include the self-test's reference photos under their names in
 * provider-image/reference-set/reference-set.json, so every engine the tests create, in
 * process or in a program they start (which inherits ARGUS_REFERENCE_PHOTOS_DIR, set
 * here unless the caller set it), reads them from there instead of downloading them.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SHARED_DIR = resolve(process.env.ARGUS_SHARED_DIR ?? join(REPO_ROOT, "../shared"));
export const SHARED_MODELS_DIR = join(SHARED_DIR, "models");
export const SHARED_IMAGES_DIR = join(SHARED_DIR, "images");
/** The reference photos' folder as the image build takes it. */
export const SHARED_REFERENCE_PHOTOS = { dir: { path: SHARED_IMAGES_DIR, origin: "configured" } } as const;
process.env.ARGUS_REFERENCE_PHOTOS_DIR ??= SHARED_IMAGES_DIR;

/**
 * This process's environment without the caller's ARGUS_* settings, which would leak
 * into what is tested — except where the test data is.
 */
export function withoutArgusSettings(): NodeJS.ProcessEnv {
  const kept = new Set(["ARGUS_SHARED_DIR", "ARGUS_REFERENCE_PHOTOS_DIR"]);
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ARGUS_") || kept.has(name)));
}

export function sharedImage(name: string): string {
  return join(SHARED_IMAGES_DIR, name);
}

export function requireSharedData(context: Mocha.Context): void {
  if (existsSync(SHARED_MODELS_DIR) && existsSync(SHARED_IMAGES_DIR)) return;
  console.warn(
    `SKIPPED: ${context.test?.parent?.fullTitle() ?? "suite"} needs the shared test data at ${SHARED_DIR} ` +
      "(set ARGUS_SHARED_DIR to its location).",
  );
  context.skip();
}
