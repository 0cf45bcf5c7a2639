/**
 * The README's "Calling Argus from a contract" example, compiled from the README itself
 * (the same compiler and settings as the project) and run against the escrow: it pays for
 * a request with a callback, receives the answer, and can withdraw a refund the escrow
 * credits it — a consumer that cannot withdraw strands every refund.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import hre, { network } from "hardhat";
import solc from "solc";
import type { BaseContract, ContractMethod } from "ethers";
import {
  ANY_DEADLINE,
  deployEscrowFixture,
  eventsOf,
  fulfillment,
  mined,
  NATIVE,
  randomImageCid,
  rejection,
  termsFromReceipt,
  fulfil,
} from "../support/escrow.ts";

const connection = await network.create();
const { loadFixture } = connection.networkHelpers;
const ROOT = join(import.meta.dirname, "../..");

/** The first ```solidity block after the README's "Calling Argus from a contract" heading. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Calling Argus from a contract"));
  const match = /```solidity\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error("the README has no Solidity example under 'Calling Argus from a contract'");
  return match[1]!;
}

/** Compiles the example; imports resolve against the repository root and node_modules. */
async function compileExample(source: string): Promise<{ abi: unknown[]; bytecode: string; name: string }> {
  // The project's own compiler settings (optimizer, EVM version), as Hardhat resolved them.
  const [compiler] = hre.config.solidity.profiles.default!.compilers;
  const input = {
    language: "Solidity",
    sources: { "README.sol": { content: source } },
    settings: { ...compiler!.settings, outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
  };
  const findImports = (path: string) => {
    for (const base of [ROOT, join(ROOT, "node_modules")]) {
      try {
        return { contents: readFileSync(join(base, path), "utf8") };
      } catch {}
    }
    return { error: `not found: ${path}` };
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((error) => error.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((error) => error.formattedMessage).join("\n"));
  const [name, compiled] = Object.entries(output.contracts["README.sol"]!)[0]!;
  return { abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}`, name };
}

type ExampleConsumer = BaseContract & Record<string, ContractMethod>;

describe("the README's contract example", () => {
  it("compiles, pays for a request with a callback, and withdraws a refund", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const { abi, bytecode, name } = await compileExample(await readmeExample());
    const owner = f.users[0]!;
    const factory = new f.ethers.ContractFactory(abi as never, bytecode, owner);
    const consumer = (await factory.deploy(await f.escrow.getAddress())) as unknown as ExampleConsumer;
    await consumer.waitForDeployment();
    const [, fee] = await f.escrow.quote(f.classifierId, 100_000n);

    const answered = termsFromReceipt(
      f.escrow,
      await mined(consumer.ask!(f.classifierId, randomImageCid(), ANY_DEADLINE, { value: fee })),
    )[0]!;
    expect(answered.requester).to.equal(await consumer.getAddress());
    const receipt = await mined(fulfil(f, [fulfillment(answered)]));
    expect(
      eventsOf(f.escrow, receipt).map(([event]) => event),
      `${name}'s callback`,
    ).to.not.include("CallbackFailed");

    const refused = termsFromReceipt(
      f.escrow,
      await mined(consumer.ask!(f.classifierId, randomImageCid(), ANY_DEADLINE, { value: fee })),
    )[0]!;
    await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(refused)]));
    expect(await f.escrow.balanceOf(NATIVE, await consumer.getAddress())).to.equal(fee);
    expect(consumer.withdraw, `${name} has no withdraw pass-through: its refunds are stranded`).to.be.a("function");
    await expect(consumer.connect(f.users[1]!).getFunction("withdraw")(NATIVE, f.users[1]!.address)).to.be.revert(f.ethers);
    await expect(consumer.getFunction("withdraw")(NATIVE, owner.address)).to.changeEtherBalance(f.ethers, owner, fee, {
      includeFee: false,
    });
  });
});
