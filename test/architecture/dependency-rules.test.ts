/**
 * The dependency rules of ARCHITECTURE.md hold in this repository, and the check
 * really catches each kind of violation (run on a small tree written for it).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect } from "chai";
import { checkDependencyRules, PACKAGE_RULES } from "../support/dependency-rules.ts";
import { REPO_ROOT } from "../support/shared.ts";

describe("architecture: the packages' dependency rules", function () {
  it("hold in this repository", function () {
    expect(checkDependencyRules(REPO_ROOT)).to.deep.equal([]);
  });

  it("the check fails on each kind of violation", async function () {
    const root = await mkdtemp(join(tmpdir(), "argus-rules-"));
    const write = async (path: string, text: string) => {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    };
    try {
      for (const rule of PACKAGE_RULES) await write(join(rule.root, "package.json"), JSON.stringify({ name: rule.name, exports: {} }));
      await write("provider-image/protocol/src/ok.ts", 'import { z } from "zod";\n');
      expect(checkDependencyRules(root)).to.deep.equal([]);

      await write("provider-image/protocol/package.json", JSON.stringify({ name: "@argus/protocol", exports: { "./*": "./src/*.ts" } }));
      await write("provider-image/protocol/src/bad.ts", 'import { x } from "@argus/escrow/abi";\n');
      await write(
        "frontend/src/app.ts",
        'export { oracle } from "@argus/oracle/oracle";\nconst lazy = await import("@argus/ipfs-node/client");\n',
      );
      await write("contracts/client/src/reach.ts", 'import { engine } from "../../../provider-image/src/engine/engine.ts";\n');
      await write("oracle-requestor/src/uses-script.ts", 'import { start } from "../../scripts/stack/start.ts";\n');
      await write("test/oracle/x.test.ts", 'import { startOracle } from "../../oracle-requestor/src/oracle.ts";\n');
      await write("oracle-requestor/cli/src/spawn.ts", 'const main = import.meta.resolve("@argus/oracle/main");\n');
      const problems = checkDependencyRules(root);
      const expected = [
        /@argus\/protocol exports a wildcard/,
        /protocol\/src\/bad\.ts imports @argus\/escrow\/abi: @argus\/protocol may import no package of ours/,
        /frontend\/src\/app\.ts imports @argus\/oracle\/oracle/,
        /frontend\/src\/app\.ts imports @argus\/ipfs-node\/client/,
        /contracts\/client\/src\/reach\.ts imports .*outside @argus\/escrow/,
        /uses-script\.ts imports .*nothing imports scripts/,
        /test\/oracle\/x\.test\.ts imports .*by package name/,
      ];
      for (const pattern of expected)
        expect(
          problems.some((problem) => pattern.test(problem)),
          `${pattern} in\n${problems.join("\n")}`,
        ).to.equal(true);
      expect(problems, "import.meta.resolve is not an import").to.have.length(expected.length);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
