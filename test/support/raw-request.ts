/**
 * Paying the escrow for a request with the image CID as raw bytes, through viem: what any
 * caller can send, including bytes that are no CID (which the SDK refuses before sending).
 */
import { createPublicClient, createWalletClient, type Hex, http, type LocalAccount } from "viem";
import { hardhat } from "viem/chains";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { requestsInLogs } from "@argus/escrow/escrow-reads";
import type { DeployedArgus } from "@argus/devchain";

/**
 * Requests a prediction of the deployment's first model on `imageCid` (the stored bytes) at
 * its quoted fee, with no callback; resolves to the request id once mined.
 */
export async function requestWithRawImage(rpcUrl: string, deployed: DeployedArgus, account: LocalAccount, imageCid: Hex): Promise<bigint> {
  const escrow = deployed.escrow;
  const modelId = Number(deployed.models[0]!.modelId);
  const client = createPublicClient({ chain: hardhat, transport: http(rpcUrl) });
  const wallet = createWalletClient({ account, chain: hardhat, transport: http(rpcUrl) });
  const [, fee] = await client.readContract({ address: escrow, abi: predictionEscrowAbi, functionName: "quote", args: [modelId, 0] });
  const hash = await wallet.writeContract({
    address: escrow,
    abi: predictionEscrowAbi,
    functionName: "requestPrediction",
    args: [modelId, imageCid, fee, 2 ** 40 - 1],
    value: fee,
  });
  return requestsInLogs((await client.waitForTransactionReceipt({ hash })).logs)[0]!.terms.requestId;
}
