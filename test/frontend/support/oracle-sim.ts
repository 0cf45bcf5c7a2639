/**
 * SIMULATED ORACLE, for the web UI's end-to-end flows until the real oracle runs in
 * them: answers a request exactly as the oracle will (fetch the image from IPFS, run the
 * real engine on the shared model, pin the canonical result JSON as a raw block, post
 * its digest with `fulfillBatch` as the oracle account), but only when the test says so.
 * Replace with the oracle process (oracle-requestor) when it lands.
 */
import { createWalletClient, type Hex, http, bytesToHex } from "viem";
import { predictionEscrowAbi } from "@argus/oracle-requestor/chain/abi.generated";
import { packFulfillment, type RequestTerms } from "@argus/oracle-requestor/chain/request-terms";
import { createIpfsClient, fetchImage, pinResult } from "@argus/oracle-requestor/ipfs/client";
import { digestFromResultCid, imageCidFromBytes } from "@argus/provider-image/protocol/cid";
import { createEngine, type Engine } from "@argus/provider-image/engine";
import { type InferenceResult, isErrorResult, onChainSummary, resultBytes } from "@argus/provider-image/protocol/result";
import { SHARED_MODELS_DIR } from "../../support/shared.ts";
import { account, type FrontendStack } from "./stack.ts";

let engine: Engine | undefined;

/** The newest pending request of `requester`, with its terms and image CID. */
export async function latestPendingRequest(stack: FrontendStack, requester: Hex): Promise<RequestTerms & { imageCid: string }> {
  const events = await stack.client.getContractEvents({
    address: stack.escrow,
    abi: predictionEscrowAbi,
    eventName: "PredictionRequested",
    args: { requester },
    fromBlock: BigInt(stack.deployBlock),
  });
  for (const event of events.reverse()) {
    const { requestId, modelId, fee, deadline, callbackGasLimit, imageCid } = event.args;
    const pending = await stack.client.readContract({ address: stack.escrow, abi: predictionEscrowAbi, functionName: "isPending", args: [requestId!] });
    if (!pending) continue;
    return {
      requestId: requestId!,
      requester,
      modelId: modelId!,
      fee: fee!,
      deadline: BigInt(deadline!),
      callbackGasLimit: callbackGasLimit!,
      imageCid: imageCidFromBytes(imageCid!).toString(),
    };
  }
  throw new Error(`no pending request from ${requester}`);
}

/** Runs the model on the request's image and settles it on-chain; returns the result posted. */
export async function fulfilAsSimulatedOracle(stack: FrontendStack, terms: RequestTerms & { imageCid: string }): Promise<InferenceResult> {
  const ipfs = createIpfsClient(stack.ipfs.apiUrl);
  const image = await fetchImage(ipfs, terms.imageCid, { maxBytes: 2 * 1024 * 1024, timeoutMs: 10_000 });
  const model = await stack.client.readContract({ address: stack.escrow, abi: predictionEscrowAbi, functionName: "getModel", args: [terms.modelId] });
  engine ??= createEngine({ modelsDir: SHARED_MODELS_DIR, manifestsDirs: stack.manifestsDirs });
  const [result] = await engine.run(model.name, [{ requestId: terms.requestId.toString(), imageCid: terms.imageCid, image: { bytes: image } }]);
  if (result === undefined || isErrorResult(result)) throw new Error(`the engine could not answer: ${JSON.stringify(result)}`);
  const cid = await pinResult(ipfs, resultBytes(result));
  const oracle = createWalletClient({ account: account(1), chain: stack.chain, transport: http(stack.rpcUrl) });
  const hash = await oracle.writeContract({
    address: stack.escrow,
    abi: predictionEscrowAbi,
    functionName: "fulfillBatch",
    args: [[packFulfillment(terms, bytesToHex(digestFromResultCid(cid)), onChainSummary(result))]],
  });
  const receipt = await stack.client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error("fulfillBatch reverted");
  return result;
}
