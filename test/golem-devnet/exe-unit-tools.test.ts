/**
 * Without bubblewrap and squashfs-tools the exe-unit cannot deploy: it says which Debian
 * packages to install instead of failing somewhere deeper. Checked in a child process
 * whose PATH holds neither tool (nor anything else).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "chai";
import { REPO_ROOT } from "../support/shared.ts";

const run = promisify(execFile);

describe("golem-devnet: the exe-unit without its host tools", function () {
  it("fails deploy naming the Debian packages bubblewrap and squashfs-tools", async function () {
    const script = `
      import { createExeUnit } from "@argus/golem-devnet/create-exe-unit";
      const exe = createExeUnit({
        providerId: "0x3333333333333333333333333333333333333333",
        taskPackage: "hash:sha3:${"0".repeat(56)}:http://127.0.0.1:9/registry/download/x",
        memoryBytes: 2 ** 30, threads: 1, workRoot: "/nonexistent/work",
        gsb: { call: async () => null, dropConnection() {} }, faults: () => ({}),
      });
      console.log(JSON.stringify(await exe.execute({ deploy: {} }, new AbortController().signal)));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: REPO_ROOT,
      env: { PATH: "/nonexistent" },
    });
    const outcome = JSON.parse(stdout);
    expect(outcome.result).to.equal("Error");
    expect(outcome.message).to.match(
      /^Runtime error: the devnet's exe-unit needs bwrap \(Debian package bubblewrap\), unsquashfs \(Debian package squashfs-tools\)/,
    );
  });
});
