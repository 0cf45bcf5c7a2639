/**
 * Where the test data lives: `../shared` beside the checkout (models, labelled photos),
 * overridable with ARGUS_SHARED_DIR. Suites that need it call `requireSharedData` in a
 * `before` hook: when the folder is absent the suite is skipped with a message saying
 * why, never silently passed.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SHARED_DIR = resolve(process.env.ARGUS_SHARED_DIR ?? join(REPO_ROOT, "../shared"));
export const SHARED_MODELS_DIR = join(SHARED_DIR, "models");
export const SHARED_IMAGES_DIR = join(SHARED_DIR, "images");

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
