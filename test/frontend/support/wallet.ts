/**
 * A test wallet for the web UI's end-to-end flows: an EIP-1193 provider injected into
 * the page and announced over EIP-6963, like MetaMask's, whose every request is answered
 * here in Node. It signs with a funded Hardhat account through viem (transactions go to
 * the Hardhat node as raw signed transactions; `personal_sign` and
 * `eth_signTypedData_v4` sign locally) and forwards read calls to the node.
 *
 * It can start on another chain (the wrong-network flow), switch chains on request, and
 * decline the next request of a given method as a user would (EIP-1193 code 4001).
 */
import type { BrowserContext, Page } from "playwright-core";
import { type Chain, createWalletClient, type Hex, http, type LocalAccount, numberToHex } from "viem";

export const TEST_WALLET_INFO = {
  uuid: "6f1b8a2e-6c55-4d4c-9a55-1f0c0e6a2d01",
  name: "Argus Test Wallet",
  icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%23e4572e'/%3E%3C/svg%3E",
  rdns: "org.argus.testwallet",
};

interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}
type Reply = { result: unknown } | { error: RpcError };

export class TestWallet {
  /** The chain the wallet is on now (the wrong-network flow starts elsewhere). */
  chainId: number;
  connected = false;
  /** Methods whose next call the "user" declines. */
  readonly declineNext = new Set<string>();
  /** Every method the page called, in order. */
  readonly calls: string[] = [];
  readonly account: LocalAccount;
  readonly chain: Chain;
  readonly rpcUrl: string;
  readonly #pages = new Set<Page>();

  constructor(account: LocalAccount, chain: Chain, rpcUrl: string, options: { startChainId?: number } = {}) {
    this.account = account;
    this.chain = chain;
    this.rpcUrl = rpcUrl;
    this.chainId = options.startChainId ?? chain.id;
  }

  /** Injects the provider into every page of `context`, before the app's scripts run. */
  async install(context: BrowserContext): Promise<void> {
    await context.exposeBinding("__argusTestWallet", async ({ page }, method: string, params: unknown) => {
      this.#pages.add(page);
      return this.handle(method, params);
    });
    // The test runner's TypeScript transform may wrap functions in `__name(…)`: define it for the page.
    await context.addInitScript({
      content: `var __name = (f) => f;\n(${injectProvider.toString()})(${JSON.stringify(TEST_WALLET_INFO)});`,
    });
  }

  async handle(method: string, params: unknown): Promise<Reply> {
    this.calls.push(method);
    if (this.declineNext.delete(method)) return { error: { code: 4001, message: "User rejected the request." } };
    try {
      return { result: await this.#answer(method, Array.isArray(params) ? params : []) };
    } catch (error) {
      const failure = error as { code?: number; message?: string; data?: unknown };
      return { error: { code: failure.code ?? -32603, message: failure.message ?? String(error), data: failure.data } };
    }
  }

  async #answer(method: string, params: unknown[]): Promise<unknown> {
    const address = this.account.address;
    switch (method) {
      case "eth_requestAccounts":
        this.connected = true;
        return [address];
      case "eth_accounts":
        return this.connected ? [address] : [];
      case "eth_chainId":
        return numberToHex(this.chainId);
      case "net_version":
        return String(this.chainId);
      case "wallet_requestPermissions":
        this.connected = true;
        return [{ parentCapability: "eth_accounts", caveats: [{ type: "restrictReturnedAccounts", value: [address] }] }];
      case "wallet_getPermissions":
        return this.connected ? [{ parentCapability: "eth_accounts" }] : [];
      case "wallet_revokePermissions":
        this.connected = false;
        return null;
      case "wallet_switchEthereumChain": {
        const requested = Number((params[0] as { chainId: Hex }).chainId);
        if (requested !== this.chain.id) throw Object.assign(new Error(`Unrecognized chain ID ${requested}.`), { code: 4902 });
        await this.switchTo(requested);
        return null;
      }
      case "wallet_addEthereumChain":
        return null;
      case "personal_sign":
        this.#assertAccount(params[1]);
        return this.account.signMessage({ message: { raw: params[0] as Hex } });
      case "eth_signTypedData_v4": {
        this.#assertAccount(params[0]);
        const typed = JSON.parse(params[1] as string) as {
          domain: never;
          types: Record<string, unknown>;
          primaryType: string;
          message: never;
        };
        const { EIP712Domain: _, ...types } = typed.types;
        return this.account.signTypedData({
          domain: typed.domain,
          types: types as never,
          primaryType: typed.primaryType,
          message: typed.message,
        } as never);
      }
      case "eth_sendTransaction":
        return this.#send(params[0] as TransactionParams);
      default:
        return this.#forward(method, params);
    }
  }

  /** Switches the wallet's chain and tells the page, as a wallet would. */
  async switchTo(chainId: number): Promise<void> {
    this.chainId = chainId;
    const emit = ([event, payload]: readonly [string, unknown]) =>
      (globalThis as unknown as ShimGlobal).__argusTestWalletEmit?.(event, payload);
    await Promise.all(
      [...this.#pages]
        .filter((page) => !page.isClosed())
        .map((page) => page.evaluate(emit, ["chainChanged", numberToHex(chainId)] as const)),
    );
  }

  #assertAccount(candidate: unknown): void {
    if (typeof candidate !== "string" || candidate.toLowerCase() !== this.account.address.toLowerCase()) {
      throw Object.assign(new Error(`${String(candidate)} is not this wallet's account`), { code: 4100 });
    }
  }

  async #send(tx: TransactionParams): Promise<Hex> {
    if (this.chainId !== this.chain.id) {
      throw Object.assign(new Error(`the wallet is on chain ${this.chainId}, not ${this.chain.id}`), { code: 4901 });
    }
    this.#assertAccount(tx.from);
    const client = createWalletClient({ account: this.account, chain: this.chain, transport: http(this.rpcUrl) });
    return client.sendTransaction({
      to: tx.to ?? null,
      ...(tx.data === undefined ? {} : { data: tx.data }),
      ...(tx.value === undefined ? {} : { value: BigInt(tx.value) }),
      ...(tx.gas === undefined ? {} : { gas: BigInt(tx.gas) }),
    } as never);
  }

  async #forward(method: string, params: unknown[]): Promise<unknown> {
    const response = await fetch(this.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await response.json()) as { result?: unknown; error?: RpcError };
    if (body.error) throw Object.assign(new Error(body.error.message), body.error);
    return body.result;
  }
}

interface TransactionParams {
  from: Hex;
  to?: Hex;
  data?: Hex;
  value?: Hex;
  gas?: Hex;
}

/** What the injected script touches in the page (the root tsconfig has no DOM types). */
interface ShimGlobal {
  __argusTestWallet(method: string, params: unknown): Promise<Reply>;
  __argusTestWalletEmit?: (event: string, payload: unknown) => void;
  addEventListener(type: string, listener: () => void): void;
  dispatchEvent(event: unknown): boolean;
  CustomEvent: new (type: string, init: { detail: unknown }) => unknown;
}

/** Runs in the page before any of its scripts: the EIP-1193 provider and its EIP-6963 announcement. */
function injectProvider(info: typeof TEST_WALLET_INFO): void {
  const page = globalThis as unknown as ShimGlobal;
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const provider = {
    async request({ method, params }: { method: string; params?: unknown }) {
      const reply = await page.__argusTestWallet(method, params ?? []);
      if ("error" in reply) throw Object.assign(new Error(reply.error.message), reply.error);
      return reply.result;
    },
    on(event: string, listener: (payload: unknown) => void) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(listener);
      return provider;
    },
    removeListener(event: string, listener: (payload: unknown) => void) {
      listeners.get(event)?.delete(listener);
      return provider;
    },
  };
  page.__argusTestWalletEmit = (event, payload) => {
    for (const listener of listeners.get(event) ?? []) listener(payload);
  };
  const detail = Object.freeze({ info: Object.freeze({ ...info }), provider });
  const announce = () => page.dispatchEvent(new page.CustomEvent("eip6963:announceProvider", { detail }));
  page.addEventListener("eip6963:requestProvider", announce);
  announce();
}
