/**
 * The deployment record on disk (Node only; the schema is deployment-record.ts):
 * `ARGUS_DEPLOYMENT_FILE`, default `.argus/deployment.json` in the repository. `npm start`
 * writes it; the oracle, the `argus` CLI and the tests read it.
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "@argus/protocol/atomic-write";
import { type Deployment, DeploymentError, type DeploymentInput, parseDeployment } from "./deployment-record.ts";

/** `.argus` in the repository: where a local stack keeps its state (this record, the oracle's queue, …). */
export const DEFAULT_STATE_DIR = fileURLToPath(new URL("../../../.argus", import.meta.url));

export const DEPLOYMENT_FILE_ENV = "ARGUS_DEPLOYMENT_FILE";
export const DEFAULT_DEPLOYMENT_FILE = join(DEFAULT_STATE_DIR, "deployment.json");

/** ARGUS_DEPLOYMENT_FILE in `env` (relative to the working directory), else `.argus/deployment.json` in the repository. */
export function deploymentFilePath(env: Readonly<Record<string, string | undefined>>): string {
  const configured = env[DEPLOYMENT_FILE_ENV]?.trim();
  return configured ? resolve(configured) : DEFAULT_DEPLOYMENT_FILE;
}

/** Reads and validates the record; the error says how to get one when it is missing. */
export async function readDeploymentFile(path: string): Promise<Deployment> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new DeploymentError(
      missing
        ? `no deployment record at ${path}: start the local stack (\`npm start\`), or point ${DEPLOYMENT_FILE_ENV} at a record`
        : `cannot read the deployment record ${path}: ${(error as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DeploymentError(`${path} is not JSON: ${(error as Error).message}`);
  }
  return parseDeployment(json, path);
}

/** Validates `record` (never writes one the readers would refuse) and replaces the file atomically. */
export async function writeDeploymentFile(path: string, record: DeploymentInput): Promise<Deployment> {
  const parsed = parseDeployment(record, "the new deployment record");
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`));
  return parsed;
}
