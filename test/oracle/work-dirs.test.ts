import { expect } from "chai";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorkDir, removeOrphanedWorkDirs } from "@argus/oracle/executors/work-dirs";

describe("oracle scratch folders", function () {
  let parent: string;

  beforeEach(async function () {
    parent = await mkdtemp(join(tmpdir(), "argus-work-dirs-test-"));
  });

  afterEach(async function () {
    await rm(parent, { recursive: true, force: true });
  });

  it("name their owner, and a start sweeps only those whose owner is gone", async function () {
    const mine = await createWorkDir("chunk", parent);
    expect(mine).to.include(`argus-chunk-${process.pid}-`);
    const dead = 999_999_999;
    for (const name of [`argus-chunk-${dead}-abc`, `argus-golem-${dead}-def`, "argus-chunk-Xy12Zq", "argus-spool-1-x", "unrelated"]) {
      await mkdir(join(parent, name, "input"), { recursive: true });
    }
    const removed = await removeOrphanedWorkDirs(parent);
    expect(removed).to.equal(2);
    // This process's folder, folders without an owner pid and other programs' folders stay.
    expect((await readdir(parent)).sort()).to.deep.equal(
      [mine.slice(parent.length + 1), "argus-chunk-Xy12Zq", "argus-spool-1-x", "unrelated"].sort(),
    );
  });

  it("keep the folder of a running owner, whoever runs it", async function () {
    // pid 1 (init) runs: as root the existence check succeeds, unprivileged it answers EPERM; alive either way.
    await mkdir(join(parent, "argus-golem-1-abc"));
    expect(await removeOrphanedWorkDirs(parent)).to.equal(0);
    expect(await removeOrphanedWorkDirs(parent, () => false)).to.equal(1);
  });
});
