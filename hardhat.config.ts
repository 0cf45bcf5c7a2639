import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";

// The compiler comes from the npm `solc` package: Hardhat's own download needs the internet.
const require = createRequire(import.meta.url);
const SOLC_VERSION: string = require("solc/package.json").version;

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    version: SOLC_VERSION,
    path: require.resolve("solc/soljson.js"),
    settings: {
      optimizer: { enabled: true, runs: 10_000 },
      evmVersion: "cancun",
    },
  },
  paths: {
    // The Solidity tests are forge's (test/forge, foundry.toml, `npm run test:forge`):
    // Hardhat would build every .sol under its Solidity test root, and cannot resolve
    // the npm forge-std 1.1.2 they import, so that root is a folder that does not exist.
    tests: { mocha: "test", solidity: "test/hardhat-solidity-none" },
    ignition: "contracts/devchain/ignition",
  },
  test: {
    mocha: { timeout: 120_000 },
  },
  // Generated types use namespaces, which the repo's erasable-syntax rule forbids in
  // hand-written code; they are only ever imported as types.
  typechain: { tsNocheck: true },
  networks: {
    localhost: {
      type: "http",
      chainType: "l1",
      url: process.env.ARGUS_RPC_URL ?? "http://127.0.0.1:8545",
    },
  },
});
