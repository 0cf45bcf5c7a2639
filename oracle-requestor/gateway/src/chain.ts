/**
 * The gateway's view of the chain: the escrow's registry (refreshed every few seconds,
 * so a 402 quotes the current fee and a deactivated model is refused), each fee token's
 * EIP-712 domain (what a payer signs in), the chain's clock, and the relayer that sends
 * the payers' authorizations.
 *
 * The relayer only pays gas. `requestPredictionWithAuthorization` moves the payer's
 * tokens straight from the payer into the escrow (EIP-3009's receiveWithAuthorization
 * accepts only its `to`, the escrow, as caller), and the escrow checks the signature, the
 * nonce's commitment to the request and the amount: the relayer never holds a payer's
 * token, and a payment it was not authorized to make cannot be made. Every relay is
 * simulated first, so a refused authorization costs it no gas and gets its reason.
 */
import {
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  nonceManager,
  parseAbi,
  parseEventLogs,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { chainTime, listModels, type ModelInfo } from "@argus/escrow/escrow-reads";
import { receiveAuthorizationArgument, type ReceiveAuthorizationMessage } from "@argus/escrow/request-authorization";

const EIP712_DOMAIN_ABI = parseAbi(["function eip712Domain() view returns (bytes1, string, string, uint256, address, bytes32, uint256[])"]);
/** The token's own errors (OpenZeppelin ERC-20 and ERC-3009), so a refusal can be named. */
const TOKEN_ERRORS_ABI = parseAbi([
  "error ERC3009UsedAuthorization(address authorizer, bytes32 nonce)",
  "error ERC3009InvalidSignature()",
  "error ERC3009InvalidAuthorizationTime(uint256 validAfter, uint256 validBefore)",
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
  "error ERC20InvalidReceiver(address receiver)",
]);
const RELAY_ABI = [...predictionEscrowAbi, ...TOKEN_ERRORS_ABI] as const;

const REGISTRY_TTL_MS = 5_000;
const CLOCK_TTL_MS = 1_000;

export interface TokenDomain {
  address: Address;
  name: string;
  version: string;
}

/** An authorization the escrow (or the token) refused, with the status and reason the client gets. */
export class RelayRefused extends Error {
  readonly status: 400 | 402 | 409;
  readonly code: string;

  constructor(status: 400 | 402 | 409, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The escrow's refusals, by error name: status, code and the reason in words. */
const REFUSALS: Record<string, [400 | 402 | 409, string, string]> = {
  ERC3009UsedAuthorization: [409, "authorization_replayed", "this authorization was already used: the token refuses it a second time"],
  AuthorizationNonceMismatch: [
    400,
    "authorization_redirected",
    "the authorization's nonce commits to another request (model, image, price or deadline)",
  ],
  AuthorizationValueMismatch: [400, "authorization_wrong_amount", "the authorization's value is not the request's fee"],
  ERC3009InvalidSignature: [400, "invalid_signature", "the signature does not match the authorization's fields and signer"],
  ERC3009InvalidAuthorizationTime: [
    400,
    "authorization_out_of_time",
    "the chain's clock is outside the authorization's validAfter–validBefore",
  ],
  ERC20InsufficientBalance: [402, "insufficient_funds", "the payer does not hold the fee in the model's token"],
  FeeAboveMax: [409, "fee_changed", "the model's fee rose above the signed maxFee: ask for a new quote"],
  DeadlineTooLate: [409, "terms_changed", "the model's response window changed: ask for a new quote"],
  ModelNotActive: [400, "model_inactive", "the model takes no requests"],
  NotTokenPriced: [400, "model_not_token_priced", "the model is priced in the native currency: pay it on-chain"],
  UnsupportedToken: [400, "unsupported_token", "the model's fee token is not supported"],
  EnforcedPause: [409, "paused", "the escrow is paused: it takes no new requests"],
};

export interface ChainView {
  client: PublicClient;
  escrow: Address;
  chainId: number;
  deployBlock: bigint;
  logRangeBlocks: bigint;
  relayer: Address;
  models(): Promise<ModelInfo[]>;
  tokenDomain(token: Address): Promise<TokenDomain>;
  now(): Promise<bigint>;
  relayerBalance(): Promise<bigint>;
  /** Simulates, then sends the request paid by `authorization`; resolves with its id and transaction once mined. */
  relay(call: RelayCall): Promise<{ requestId: bigint; transactionHash: Hex; requester: Address }>;
}

export interface RelayCall {
  modelId: number;
  imageCid: Hex;
  callbackGasLimit: number;
  maxFee: bigint;
  latestDeadline: bigint;
  message: ReceiveAuthorizationMessage;
  signature: Hex;
  /** Runs after the simulation passed, before the transaction is sent (the image is pinned then). */
  beforeSend?: () => Promise<void>;
}

export function connectChain(options: {
  rpcUrl: string;
  escrow: Address;
  chainId: number;
  deployBlock: bigint;
  logRangeBlocks: number;
  relayerPrivateKey: Hex;
}): ChainView {
  const transport = http(options.rpcUrl, { batch: { wait: 5 } });
  const chain = {
    id: options.chainId,
    name: `chain ${options.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
  };
  const client = createPublicClient({ chain, transport, pollingInterval: 250 }) as PublicClient;
  // The nonce manager hands out the relayer's nonces in order to concurrent relays.
  const account = privateKeyToAccount(options.relayerPrivateKey, { nonceManager });
  const wallet = createWalletClient({ account, chain, transport });
  const reader = { client, escrow: options.escrow };

  let registry: { at: number; models: Promise<ModelInfo[]> } | undefined;
  let clock: { at: number; time: Promise<bigint> } | undefined;
  const domains = new Map<Address, Promise<TokenDomain>>();

  return {
    client,
    escrow: options.escrow,
    chainId: options.chainId,
    deployBlock: options.deployBlock,
    logRangeBlocks: BigInt(options.logRangeBlocks),
    relayer: account.address,
    models() {
      if (!registry || Date.now() - registry.at > REGISTRY_TTL_MS) {
        const models = listModels(reader);
        registry = { at: Date.now(), models };
        models.catch(() => (registry = undefined));
      }
      return registry.models;
    },
    tokenDomain(token) {
      let domain = domains.get(token);
      if (!domain) {
        domain = client
          .readContract({ address: token, abi: EIP712_DOMAIN_ABI, functionName: "eip712Domain" })
          .then(([, name, version]) => ({ address: token, name, version }));
        domain.catch(() => domains.delete(token));
        domains.set(token, domain);
      }
      return domain;
    },
    now() {
      if (!clock || Date.now() - clock.at > CLOCK_TTL_MS) {
        const time = chainTime(reader);
        clock = { at: Date.now(), time };
        time.catch(() => (clock = undefined));
      }
      return clock.time;
    },
    relayerBalance: () => client.getBalance({ address: account.address }),
    async relay(call) {
      const args = [
        call.modelId,
        call.imageCid,
        call.callbackGasLimit,
        call.maxFee,
        Number(call.latestDeadline),
        receiveAuthorizationArgument(call.message, call.signature),
      ] as const;
      try {
        const { request } = await client.simulateContract({
          address: options.escrow,
          abi: RELAY_ABI,
          functionName: "requestPredictionWithAuthorization",
          args,
          account,
        });
        await call.beforeSend?.();
        const hash = await wallet.writeContract(request as never);
        const receipt = await receiptOf(client, hash);
        if (receipt.status !== "success")
          // Raced by an identical relay (the same header sent twice at once): the token took the first.
          throw new RelayRefused(
            409,
            "authorization_replayed",
            `the relay transaction ${hash} reverted: the authorization was used meanwhile`,
          );
        const [requested] = parseEventLogs({ abi: predictionEscrowAbi, logs: receipt.logs, eventName: "PredictionRequested" });
        if (!requested) throw new Error(`transaction ${hash} recorded no request`);
        return { requestId: requested.args.requestId, transactionHash: hash, requester: requested.args.requester };
      } catch (error) {
        throw refusalOf(error) ?? error;
      }
    },
  };
}

/**
 * The receipt of a transaction already sent: the payer has paid once it is mined, so a
 * node that does not answer for a while must not turn that into an error for the client
 * (who would pay again). Retries for up to two minutes.
 */
async function receiptOf(client: PublicClient, hash: Hex) {
  const until = Date.now() + 120_000;
  for (;;) {
    try {
      return await client.waitForTransactionReceipt({ hash, timeout: 60_000 });
    } catch (error) {
      if (Date.now() > until) throw new Error(`transaction ${hash} was sent but its receipt cannot be read: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/** The named refusal behind a simulation's revert, if it is one the client caused. */
function refusalOf(error: unknown): RelayRefused | undefined {
  if (error instanceof RelayRefused) return error;
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((cause) => cause instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) return undefined;
  const name = reverted.data?.errorName;
  const known = name ? REFUSALS[name] : undefined;
  if (known) return new RelayRefused(known[0], known[1], `${known[2]} (${name})`);
  return new RelayRefused(400, "refused", `the escrow refuses this payment: ${reverted.shortMessage}`);
}
