import { describe, expect, it } from "vitest";
import { loadDeployment, parseDeployment } from "./deployment.ts";

const record = {
  schemaVersion: 1,
  chain: { id: 31337, name: "Hardhat local", rpcUrl: "http://127.0.0.1:8545/" },
  contracts: { predictionEscrow: { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3" } },
  ipfs: { apiUrl: "http://127.0.0.1:5001", gatewayUrl: "http://127.0.0.1:8080" },
};

describe("deployment record", () => {
  it("fills the defaults and normalises URLs", () => {
    const deployment = parseDeployment(record);
    expect(deployment.chain.nativeCurrency.symbol).toBe("ETH");
    expect(deployment.chain.rpcUrl).toBe("http://127.0.0.1:8545");
    expect(deployment.contracts.predictionEscrow.deployBlock).toBe(0);
  });

  it("keeps a chain's eth_getLogs range limit, which is optional", () => {
    expect(parseDeployment(record).chain.logRangeBlocks).toBeUndefined();
    expect(parseDeployment({ ...record, chain: { ...record.chain, logRangeBlocks: 10_000 } }).chain.logRangeBlocks).toBe(10_000);
    expect(() => parseDeployment({ ...record, chain: { ...record.chain, logRangeBlocks: 0 } })).toThrow(/logRangeBlocks/);
  });

  it("lists every problem of a bad record", () => {
    const bad = { ...record, chain: { ...record.chain, id: -1 }, contracts: { predictionEscrow: { address: "0x123" } } };
    expect(() => parseDeployment(bad)).toThrow(/chain\.id[\s\S]*predictionEscrow\.address/);
  });

  it("says when no record is served", async () => {
    await expect(loadDeployment("deployment.json", Promise.resolve(new Response("missing", { status: 404 })))).rejects.toThrow(/HTTP 404/);
    await expect(loadDeployment("deployment.json", Promise.reject(new TypeError("Failed to fetch")))).rejects.toThrow(
      /could not fetch deployment.json: Failed to fetch/,
    );
  });
});
