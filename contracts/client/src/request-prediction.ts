/**
 * `requestPrediction`: pays for one prediction and returns the request as the escrow
 * recorded it. Browser-safe (the wallet may be a local account or an injected one).
 */
import { type Account, type Chain, type Hex, toHex, type Transport, type WalletClient, zeroAddress } from "viem";
import { imageCidToBytes } from "@argus/protocol/cid";
import { ModelNotActiveError, TransactionFailedError } from "./errors.ts";
import { chainTime, type EscrowReader, type ModelInfo, type RequestRecord, readModel, requestsInLogs } from "./escrow-reads.ts";
import { quote } from "./quote.ts";
import { nativeRequestCall, tokenRequestCall } from "./request-call.ts";
import { requestBounds } from "./request-terms.ts";

/** A wallet with its account: it signs and pays. */
export type PayingWallet = WalletClient<Transport, Chain | undefined, Account>;

export interface PredictionRequest {
  modelId: number;
  /** The image's CID as text (pin the image to IPFS first). */
  imageCid: string;
  /**
   * The fee quoted to whoever pays (`quote`), paid and named as the request's `maxFee`.
   * Default: quoted now.
   */
  fee?: bigint;
}

/** A paid request: its terms and image as `PredictionRequested` recorded them, and its model. */
export interface PaidRequest extends RequestRecord {
  model: ModelInfo;
}

/**
 * Pays for a prediction by `modelId` on the image at `imageCid`, with no callback, and
 * waits for the transaction. The request accepts at most the quoted fee and a deadline
 * the model's response window (plus `DEADLINE_SLACK_S`) from now, so a change of the
 * model's terms landing first reverts it instead of charging more or locking the fee
 * longer. A token-priced fee is pulled with `transferFrom`: approve the escrow first
 * (or pay by EIP-3009 authorization, see `request-authorization`).
 * Throws ModelNotActiveError, TransactionFailedError, and viem's
 * ContractFunctionRevertedError for the escrow's own refusals.
 */
export async function requestPrediction(reader: EscrowReader & { wallet: PayingWallet }, request: PredictionRequest): Promise<PaidRequest> {
  const [model, now, quoted] = await Promise.all([
    readModel(reader, request.modelId),
    chainTime(reader),
    request.fee === undefined ? quote(reader, request.modelId) : undefined,
  ]);
  if (!model.active) throw new ModelNotActiveError(model.id);
  const fee = request.fee ?? quoted!.fee;
  const { maxFee, latestDeadline } = requestBounds(fee, model.responseWindow, now);
  const imageCid = toHex(imageCidToBytes(request.imageCid));
  const bounds = { maxFee, latestDeadline };
  const call =
    model.feeToken === zeroAddress ? nativeRequestCall(model.id, imageCid, fee, bounds) : tokenRequestCall(model.id, imageCid, bounds);
  const hash = await reader.wallet.writeContract({ address: reader.escrow, chain: reader.wallet.chain, ...call });
  return { ...(await requestFromTransaction(reader, hash)), model };
}

/** The request a mined transaction paid for (the first `PredictionRequested` it emitted). */
export async function requestFromTransaction(reader: Pick<EscrowReader, "client">, hash: Hex): Promise<RequestRecord> {
  const receipt = await reader.client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new TransactionFailedError(hash, "reverted");
  const [request] = requestsInLogs(receipt.logs);
  if (!request) throw new TransactionFailedError(hash, "emitted no PredictionRequested");
  return request;
}
