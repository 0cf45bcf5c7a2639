import { expect } from "chai";
import type { Hex, PublicClient } from "viem";
import { listModels, type ModelView, modelFromView } from "@argus/escrow/escrow-reads";
import { executorModelTerms, ModelRegistryReader } from "@argus/oracle/intake/model-registry";
import { golemImageHash } from "@argus/oracle/executors/golem/config";

const ESCROW = "0x00000000000000000000000000000000000000e5";
const WEIGHTS = `0x${"ab".repeat(32)}` as Hex;
const GOLEM_IMAGE = "cd".repeat(28);
/** A raw block CID (CIDv1, raw codec, sha2-256) of 32 zero bytes: the registry stores its bytes. */
const MANIFEST_CID_BYTES = `0x01551220${"00".repeat(32)}` as Hex;

function view(overrides: Partial<ModelView> = {}): ModelView {
  return {
    id: 1,
    active: true,
    name: "mobilenetv2-12-int8",
    task: 1,
    feeToken: "0x0000000000000000000000000000000000000000",
    fee: 10n ** 15n,
    callbackGasPrice: 2n,
    responseWindow: 3_600n,
    weightsSha256: WEIGHTS,
    providerImageHash: `0x${GOLEM_IMAGE}00000000`,
    manifestCid: MANIFEST_CID_BYTES,
    ...overrides,
  } as ModelView;
}

/** A client whose `getModel` answers from `models` (by id) and counts the reads. */
function registryClient(models: Map<number, ModelView>) {
  const reads: number[] = [];
  const client = {
    async readContract({ functionName, args }: { functionName: string; args?: readonly unknown[] }) {
      if (functionName === "modelCount") return models.size;
      const id = args![0] as number;
      reads.push(id);
      return models.get(id)!;
    },
  } as unknown as PublicClient;
  return { client, reads };
}

describe("model registry: one reading of a model", () => {
  it("turns the getModel view into the shared ModelInfo", () => {
    const model = modelFromView(view());
    expect(model).to.deep.include({
      id: 1,
      name: "mobilenetv2-12-int8",
      task: "detection",
      active: true,
      fee: 10n ** 15n,
      responseWindow: 3_600,
      weightsSha256: WEIGHTS,
    });
    expect(model.manifestCid).to.match(/^bafkrei/);
    expect(modelFromView(view({ task: 0 })).task).to.equal("classification");
    expect(modelFromView(view({ manifestCid: "0x1234" })).manifestCid).to.equal("0x1234");
  });

  it("gives executors the weights digest without 0x and the Golem image hash without 0x or padding", () => {
    const model = modelFromView(view());
    expect(executorModelTerms(model)).to.deep.equal({ weightsSha256: "ab".repeat(32), providerImageHash: GOLEM_IMAGE });
    expect(executorModelTerms({ ...model, providerImageHash: `0x${"00".repeat(32)}` })).to.deep.equal({ weightsSha256: "ab".repeat(32) });
    // A hash whose own last bytes are zero keeps them: only the 4 bytes of padding go.
    const endsInZeros = `${"cd".repeat(26)}0000`;
    expect(executorModelTerms({ ...model, providerImageHash: `0x${endsInZeros}00000000` }).providerImageHash).to.equal(endsInZeros);
    expect(golemImageHash(endsInZeros)).to.equal(endsInZeros);
  });

  it("the oracle's cached reader and listModels read the same model", async () => {
    const { client } = registryClient(new Map([[1, view()]]));
    const [listed] = await listModels({ client, escrow: ESCROW });
    expect(await new ModelRegistryReader(client, ESCROW).get(1)).to.deep.equal(listed);
  });

  it("reads a model once per TTL, so an admin update is picked up when it runs out", async () => {
    const models = new Map([[1, view()]]);
    const { client, reads } = registryClient(models);
    const registry = new ModelRegistryReader(client, ESCROW, 50);
    expect((await registry.get(1)).fee).to.equal(10n ** 15n);
    models.set(1, view({ fee: 5n }));
    expect((await registry.get(1)).fee).to.equal(10n ** 15n);
    expect(reads).to.deep.equal([1]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await registry.get(1)).fee).to.equal(5n);
    expect(reads).to.deep.equal([1, 1]);
  });
});
