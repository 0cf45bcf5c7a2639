/**
 * The registry's weights sha256 for a model, read from the chain when the user asks for a
 * recompute: the registry is the authority on which weights are "the registered model"
 * (as for `argus verify --recompute`), and reading it at that moment compares with what
 * is registered now.
 */
import { listModels } from "@argus/escrow/escrow-reads";
import { createPublicClient, http } from "viem";
import type { Deployment } from "../deployment.ts";

export async function registeredWeightsSha256(deployment: Deployment, modelName: string): Promise<string> {
  const client = createPublicClient({ transport: http(deployment.chain.rpcUrl) });
  const models = await listModels({ client, escrow: deployment.contracts.predictionEscrow.address });
  const model = models.find((candidate) => candidate.name === modelName);
  if (model === undefined) throw new Error(`the registry has no model named ${modelName}`);
  return model.weightsSha256;
}
