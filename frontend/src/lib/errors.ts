/**
 * Every failure as something a person can act on: a title, one or two sentences, and
 * which way forward the UI should offer (retry, switch network, …).
 */
import { BaseError, ChainMismatchError, ContractFunctionRevertedError, InsufficientFundsError, UserRejectedRequestError } from "viem";

/** The IPFS API could not be reached (connection refused, CORS, DNS…). */
export class IpfsUnavailableError extends Error {
  override name = "IpfsUnavailableError";
  readonly apiUrl: string;
  constructor(apiUrl: string, options?: ErrorOptions) {
    super(`The IPFS endpoint at ${apiUrl} is not reachable.`, options);
    this.apiUrl = apiUrl;
  }
}

/** The IPFS API answered, but refused or failed the operation. */
export class IpfsOperationError extends Error {
  override name = "IpfsOperationError";
}

/** The wallet holds less than a payment needs. */
export class InsufficientBalanceError extends Error {
  override name = "InsufficientBalanceError";
}

export type Remedy = "retry" | "switch-network" | "connect" | "reload" | "none";

export interface Problem {
  title: string;
  message: string;
  remedy: Remedy;
}

const CONTRACT_ERRORS: Record<string, { title: string; message: string }> = {
  ModelNotActive: { title: "Model not available", message: "This model no longer accepts requests. Pick another model." },
  UnknownModel: { title: "Unknown model", message: "No model with this id is registered on this escrow. Pick one from the list." },
  EnforcedPause: {
    title: "Requests are paused",
    message: "The operator has paused new requests. Settlement and refunds still work; try again later.",
  },
  IncorrectPayment: {
    title: "The fee changed",
    message: "The model's fee changed since it was quoted. Review the new fee and pay again.",
  },
  FeeAboveMax: {
    title: "The fee rose",
    message: "The model's fee is now higher than the one you were shown, so nothing was charged. Review the new fee and pay again.",
  },
  DeadlineTooLate: {
    title: "The response window grew",
    message:
      "The model now takes longer to answer than it promised when you were quoted, so nothing was charged. Review its terms and pay again.",
  },
  FeeTokenNotAllowed: {
    title: "Fee token no longer accepted",
    message: "The escrow no longer accepts this model's fee token. Pick another model.",
  },
  InvalidImageCid: { title: "Invalid image CID", message: "The contract refused the image's CID. Upload the image again." },
  NothingToWithdraw: { title: "Nothing to withdraw", message: "There is no refund waiting for this account." },
  NotTokenPriced: { title: "Not a token-priced model", message: "This model is paid in the native currency." },
  UnsupportedToken: {
    title: "Unsupported fee token",
    message: "The fee token did not transfer the exact amount (fee-on-transfer tokens are not accepted).",
  },
  ERC20InsufficientBalance: {
    title: "Insufficient token balance",
    message: "Your account holds less of the fee token than the fee. Top it up, then pay again.",
  },
  ERC20InsufficientAllowance: {
    title: "Permit not accepted",
    message: "The token allowance is too low and the permit signature was not accepted. Sign and pay again.",
  },
};

function isUserRejection(error: unknown): boolean {
  if (error instanceof BaseError && error.walk((cause) => cause instanceof UserRejectedRequestError) !== null) return true;
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current != null; depth++) {
    const candidate = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (candidate.code === 4001 || candidate.code === "ACTION_REJECTED" || candidate.name === "UserRejectedRequestError") return true;
    current = candidate.cause;
  }
  return false;
}

function isChainMismatch(error: unknown): boolean {
  if (error instanceof BaseError) {
    const found = error.walk((cause) => cause instanceof ChainMismatchError || (cause as Error).name === "ConnectorChainMismatchError");
    if (found !== null) return true;
  }
  return (error as Error | undefined)?.name === "ConnectorChainMismatchError";
}

export function describeError(error: unknown): Problem {
  if (isUserRejection(error)) {
    return {
      title: "Rejected in the wallet",
      message: "You declined the request in your wallet, so nothing was sent or signed. Try again when you are ready.",
      remedy: "retry",
    };
  }
  if (isChainMismatch(error)) {
    return {
      title: "Wrong network",
      message: "Your wallet is connected to another network than Argus. Switch networks, then try again.",
      remedy: "switch-network",
    };
  }
  if (error instanceof IpfsUnavailableError) {
    return {
      title: "IPFS endpoint down",
      message: `${error.message} Start it (npm run ipfs) or check the deployment record, then try again.`,
      remedy: "retry",
    };
  }
  if (error instanceof IpfsOperationError) {
    return { title: "IPFS refused the operation", message: error.message, remedy: "retry" };
  }
  if (error instanceof InsufficientBalanceError) {
    return { title: "Insufficient funds", message: error.message, remedy: "retry" };
  }
  if (error instanceof BaseError) {
    if (error.walk((cause) => cause instanceof InsufficientFundsError) !== null || /insufficient funds/i.test(error.message)) {
      return {
        title: "Insufficient funds",
        message: "Your account cannot cover the fee plus gas. Add funds to it, then pay again.",
        remedy: "retry",
      };
    }
    const revert = error.walk((cause) => cause instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) {
      const name = revert.data?.errorName;
      const known = name === undefined ? undefined : CONTRACT_ERRORS[name];
      if (known) return { ...known, remedy: "retry" };
      return {
        title: "The contract refused the transaction",
        message: `${name ?? revert.reason ?? revert.shortMessage}. Nothing was charged.`,
        remedy: "retry",
      };
    }
    if (/fetch|network|HTTP request failed|connect/i.test(error.shortMessage)) {
      return {
        title: "Chain not reachable",
        message: `The app cannot reach the chain's RPC endpoint (${error.shortMessage}). Check that the node is running, then retry.`,
        remedy: "retry",
      };
    }
    return { title: "Transaction failed", message: error.shortMessage, remedy: "retry" };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { title: "Something went wrong", message, remedy: "retry" };
}
