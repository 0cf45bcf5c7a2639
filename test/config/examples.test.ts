/**
 * The committed configuration examples (.env.example, oracle.example.json) and the
 * READMEs' settings tables are what the programs' schemas generate: a setting added,
 * renamed or re-defaulted without `npm run config:examples` fails here.
 */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { REPO_ROOT } from "../support/shared.ts";

const SCRIPT = join(REPO_ROOT, "scripts/config/examples.ts");
const FILES = [
  ".env.example",
  "oracle.example.json",
  "oracle-requestor/README.md",
  "oracle-requestor/cli/README.md",
  "oracle-requestor/ipfs-node/README.md",
  "provider-image/README.md",
  "oracle-requestor/golem-devnet/README.md",
  "oracle-requestor/gateway/README.md",
];

function check(root: string): Promise<{ code: number; stderr: string }> {
  return promisify(execFile)(process.execPath, [SCRIPT, "--check", "--root", root], { cwd: REPO_ROOT }).then(
    () => ({ code: 0, stderr: "" }),
    (error: { code?: number; stderr?: string }) => ({ code: error.code ?? -1, stderr: error.stderr ?? "" }),
  );
}

describe("configuration examples", function () {
  this.timeout(60_000);

  it("are up to date with the schemas", async function () {
    const outcome = await check(REPO_ROOT);
    expect(outcome.stderr).to.equal("");
    expect(outcome.code).to.equal(0);
  });

  it("the check fails, naming the file, when one is out of date", async function () {
    const root = await mkdtemp(join(tmpdir(), "argus-examples-"));
    try {
      for (const file of FILES) {
        await mkdir(dirname(join(root, file)), { recursive: true });
        await cp(join(REPO_ROOT, file), join(root, file));
      }
      const env = await readFile(join(root, ".env.example"), "utf8");
      await writeFile(join(root, ".env.example"), env.replace("#ARGUS_CONFIRMATIONS=1", "#ARGUS_CONFIRMATIONS=2"));
      const outcome = await check(root);
      expect(outcome.code).to.equal(1);
      expect(outcome.stderr).to.match(/out of date.*\.env\.example/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("list every variable of every program", async function () {
    const env = await readFile(join(REPO_ROOT, ".env.example"), "utf8");
    for (const name of [
      "ARGUS_ORACLE_CONFIG",
      "ARGUS_EXECUTOR",
      "YAGNA_APPKEY",
      "ARGUS_GOLEM_BUDGET_GLM",
      "ARGUS_IPFS_API_PORT",
      "ARGUS_PRIVATE_KEY",
      "ARGUS_MANIFESTS_DIR",
      "ARGUS_MODELS_MIRROR",
      "ARGUS_GOLEM_DEVNET_PORT",
    ]) {
      expect(env, name).to.match(new RegExp(`^#${name}=`, "m"));
    }
  });
});
