/**
 * The gateway's HTTP interface (hono):
 *
 * - `POST /v1/predictions` (multipart `image`, `model`): without a payment, 402 with the
 *   x402 requirements for this very image and model (see payment-terms.ts); with one
 *   (`PAYMENT-SIGNATURE`, x402 v2's header, or `X-PAYMENT`), the image is pinned, the
 *   authorization relayed to the escrow, and the answer is `{ requestId, statusUrl }`;
 * - `GET /v1/predictions/:id`: status and, once fulfilled, the verified result;
 * - `GET /v1/models`: the registry with fees; `GET /v1/openapi.json`; `GET /healthz`;
 * - the original service's interface: `POST /requestPrediction/:model` (the same flow)
 *   and `POST /readPrediction/:id` (`null` until settled, then the predicted classes).
 *
 * Every refusal is a 4xx (or 503 when busy) with `{ error, message }`.
 */
import { Hono, type Context } from "hono";
import { getAddress, type Hex, toHex, zeroAddress } from "viem";
import { decodePaymentSignatureHeader, encodePaymentRequiredHeader, encodePaymentResponseHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import type { KuboRPCClient } from "@argus/ipfs-node/client";
import { imageCidToBytes } from "@argus/protocol/cid";
import type { ModelInfo } from "@argus/escrow/escrow-reads";
import { parseRequestIdText, requestBounds } from "@argus/escrow/request-terms";
import { Busy, ConcurrencyGate, RateLimiter } from "./admission.ts";
import type { ChainView } from "./chain.ts";
import { RelayRefused } from "./chain.ts";
import type { GatewayConfig } from "./config.ts";
import { openApiDocument } from "./openapi.ts";
import { checkPayment, PaymentError, parsePaymentPayload } from "./payment-check.ts";
import { paymentRequirement, X402_VERSION } from "./payment-terms.ts";
import { PredictionStatusReader, predictedClasses } from "./prediction-status.ts";
import { readUpload, UploadError } from "./upload.ts";

export interface GatewayDeps {
  config: GatewayConfig;
  chain: ChainView;
  ipfs: KuboRPCClient;
  /** The client's address (rate limiting): in production client-address.ts's pick of the socket and X-Forwarded-For. */
  clientAddress(c: Context): string;
  log(event: Record<string, unknown>): void;
}

class HttpError extends Error {
  readonly status: 400 | 404 | 409 | 503;
  readonly code: string;

  constructor(status: 400 | 404 | 409 | 503, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const BALANCE_TTL_MS = 5_000;

export function createGatewayApp(deps: GatewayDeps) {
  const { config, chain, ipfs } = deps;
  // Uploads cost a body read, a hash and maybe a relay; reads cost a few RPC calls: two budgets.
  const uploadLimiter = new RateLimiter(config.rateLimitPerMinute);
  const readLimiter = new RateLimiter(config.readRateLimitPerMinute);
  // Two gates: uploads being read and hashed, and payments being relayed (until mined), so
  // that a 402 never waits behind relays; each bounds the bodies held in memory.
  const uploads = new ConcurrencyGate(config.maxConcurrentPayments, config.maxQueuedPayments);
  const relays = new ConcurrencyGate(config.maxConcurrentPayments, config.maxQueuedPayments);
  const statuses = new PredictionStatusReader(chain, ipfs, config.resultTimeoutMs);
  const inFlight = new Set<string>();
  let lastDeadline = 0n;
  let balance: { at: number; value: Promise<bigint> } | undefined;
  const app = new Hono();

  app.use("*", async (c, next) => {
    const upload = c.req.method === "POST" && (c.req.path === "/v1/predictions" || c.req.path.startsWith("/requestPrediction/"));
    const wait = (upload ? uploadLimiter : readLimiter).take(deps.clientAddress(c));
    if (wait !== undefined) {
      c.header("Retry-After", String(wait));
      return c.json({ error: "rate_limited", message: `too many requests from this address: retry in ${wait} s` }, 429);
    }
    await next();
  });

  app.onError((error, c) => {
    if (error instanceof UploadError || error instanceof PaymentError || error instanceof RelayRefused || error instanceof HttpError)
      return c.json({ error: "code" in error ? error.code : "bad_upload", message: error.message }, error.status);
    if (error instanceof Busy) {
      c.header("Retry-After", "1");
      return c.json({ error: "busy", message: error.message }, 503);
    }
    deps.log({ event: "error", path: c.req.path, message: (error as Error).message });
    // The chain's node or the IPFS node did not answer: nothing was paid (a sent payment waits for its receipt).
    if (/fetch failed|ECONNREFUSED|ECONNRESET|timed? ?out|HTTP request failed/i.test((error as Error).message)) {
      c.header("Retry-After", "5");
      return c.json({ error: "upstream_unavailable", message: `the chain or IPFS node did not answer: ${(error as Error).message}` }, 503);
    }
    return c.json({ error: "internal", message: (error as Error).message }, 500);
  });

  const origin = (c: Context) => config.publicUrl?.replace(/\/$/, "") ?? new URL(c.req.url).origin;
  const statusUrl = (c: Context, id: bigint) => `${origin(c)}/v1/predictions/${id}`;

  async function resolveModel(reference: string | undefined): Promise<ModelInfo> {
    if (!reference)
      throw new HttpError(400, "no_model", 'name the model: the "model" form field (id or name), or /requestPrediction/<model>');
    const models = await chain.models();
    const payable = models.filter((model) => model.feeToken !== zeroAddress);
    const byId = /^\d+$/.test(reference) ? models.find((model) => model.id === Number(reference)) : undefined;
    // A name sold in several currencies: over HTTP only the token-priced one can be paid.
    const model = byId ?? payable.find((m) => m.name === reference && m.active) ?? models.find((m) => m.name === reference);
    if (!model) throw new HttpError(404, "unknown_model", `no model "${reference}": see GET /v1/models`);
    if (!model.active) throw new HttpError(400, "model_inactive", `model ${model.id} (${model.name}) takes no requests`);
    if (model.feeToken === zeroAddress)
      throw new HttpError(
        400,
        "model_not_token_priced",
        `model ${model.id} is priced in the native currency: pay it on-chain (argus request), or pick a token-priced model`,
      );
    return model;
  }

  async function relayerFunded(): Promise<void> {
    if (!balance || Date.now() - balance.at > BALANCE_TTL_MS) balance = { at: Date.now(), value: chain.relayerBalance() };
    if ((await balance.value) < config.minRelayerBalanceWei)
      throw new HttpError(503, "relayer_unfunded", "the gateway's relayer is out of gas money; its operator has been told (see /healthz)");
  }

  async function predict(c: Context, modelReference: string | undefined) {
    const header = c.req.header("payment-signature") ?? c.req.header("x-payment");
    // A malformed header is refused before the body is read.
    const payload = header === undefined ? undefined : parsePaymentPayload(header, decodePaymentSignatureHeader);
    const receive = async () => {
      const upload = await readUpload(c.req.raw, config.imageMaxBytes);
      const model = await resolveModel(modelReference ?? upload.model);
      const hashed = await ipfs.add(upload.image, { onlyHash: true, cidVersion: 1, rawLeaves: true, pin: false });
      return { upload, model, hashed, imageCid: toHex(imageCidToBytes(hashed.cid.toString())) };
    };
    if (!payload)
      return uploads.run(async () => {
        const { model, imageCid } = await receive();
        return paymentRequired(c, model, imageCid, await chain.tokenDomain(model.feeToken));
      });
    // A paid upload takes its relay slot before its body is read: one waiting for a slot
    // holds no image in memory (its bytes wait in the socket).
    return relays.run(async () => {
      const { upload, model, hashed, imageCid } = await receive();
      const paid = checkPayment(payload, { escrow: chain.escrow, chainId: chain.chainId, model, imageCid });
      const key = `${paid.message.from}:${paid.message.nonce}`;
      if (inFlight.has(key)) throw new RelayRefused(409, "authorization_replayed", "this authorization is being relayed already");
      inFlight.add(key);
      try {
        await relayerFunded();
        const relayed = await chain.relay({
          ...paid.request,
          message: paid.message,
          signature: paid.signature,
          beforeSend: async () => {
            const pinned = await ipfs.add(upload.image, { cidVersion: 1, rawLeaves: true, pin: true });
            if (!pinned.cid.equals(hashed.cid)) throw new Error(`the IPFS node stored the image as ${pinned.cid}, not ${hashed.cid}`);
          },
        });
        deps.log({ event: "relayed", requestId: relayed.requestId.toString(), payer: relayed.requester, tx: relayed.transactionHash });
        c.header(
          "PAYMENT-RESPONSE",
          encodePaymentResponseHeader({
            success: true,
            transaction: relayed.transactionHash,
            network: payload.accepted.network,
            payer: relayed.requester,
          }),
        );
        return c.json({
          requestId: relayed.requestId.toString(),
          statusUrl: statusUrl(c, relayed.requestId),
          transaction: relayed.transactionHash,
          payer: relayed.requester,
        });
      } finally {
        inFlight.delete(key);
      }
    });
  }

  async function paymentRequired(c: Context, model: ModelInfo, imageCid: Hex, token: { address: Hex; name: string; version: string }) {
    const chainTime = await chain.now();
    const bounds = requestBounds(model.fee, model.responseWindow, chainTime);
    // Identical requests need distinct nonces: no two 402s of this gateway name the same deadline.
    const latestDeadline = BigInt(bounds.latestDeadline) > lastDeadline ? BigInt(bounds.latestDeadline) : lastDeadline + 1n;
    lastDeadline = latestDeadline;
    const required: PaymentRequired = {
      x402Version: X402_VERSION,
      error:
        "payment required: sign the EIP-3009 ReceiveWithAuthorization these terms describe and send it in PAYMENT-SIGNATURE (or X-PAYMENT)",
      resource: {
        url: new URL(c.req.url, origin(c)).toString(),
        description: `one prediction by ${model.name} (model ${model.id})`,
        mimeType: "application/json",
      },
      accepts: [
        paymentRequirement({
          request: {
            escrow: chain.escrow,
            chainId: chain.chainId,
            modelId: model.id,
            imageCid,
            maxFee: bounds.maxFee,
            callbackGasLimit: 0,
            latestDeadline,
          },
          token: { address: getAddress(token.address), name: token.name, version: token.version },
          fee: model.fee,
          maxTimeoutSeconds: config.authorizationLifetimeS,
          chainTime,
        }),
      ],
    };
    c.header("PAYMENT-REQUIRED", encodePaymentRequiredHeader(required));
    return c.json(required, 402);
  }

  app.post("/v1/predictions", (c) => predict(c, undefined));
  app.post("/requestPrediction/:model", (c) => predict(c, c.req.param("model")));

  async function status(c: Context) {
    const id = parseRequestIdText(c.req.param("requestId") ?? "");
    if (id === undefined) throw new HttpError(400, "bad_request_id", "a request id is a non-zero uint256, decimal or 0x hex");
    const found = await statuses.read(id);
    if (!found) throw new HttpError(404, "unknown_request", `the escrow ${chain.escrow} has no request ${id}`);
    return found;
  }

  app.get("/v1/predictions/:requestId", async (c) => c.json(await status(c)));
  app.post("/readPrediction/:requestId", async (c) => {
    const found = await status(c);
    if (found.status === "pending" || found.status === "overdue") return c.json(null);
    if (found.status === "fulfilled" && found.verified && found.result) {
      const classes = predictedClasses(found.result);
      if (classes) return c.json(classes);
      return c.json({ error: "failed", message: "the oracle could not run the model on this image", result: found.result }, 422);
    }
    if (found.status === "fulfilled")
      return c.json({ error: "unverified", message: found.problem ?? "the result is not verified yet" }, 502);
    return c.json(
      {
        error: found.status,
        message:
          found.status === "rejected"
            ? `rejected (${found.rejectReason}); the fee went back to the requester`
            : "expired unanswered; the fee is refundable",
        status: found,
      },
      410,
    );
  });

  app.get("/v1/models", async (c) => {
    const models = await chain.models();
    return c.json({
      escrow: chain.escrow,
      network: `eip155:${chain.chainId}`,
      models: await Promise.all(
        models.map(async (model) => ({
          id: model.id,
          name: model.name,
          task: model.task,
          active: model.active,
          fee: model.fee.toString(),
          feeToken: model.feeToken,
          ...(model.feeToken === zeroAddress
            ? { payOverHttp: false }
            : { payOverHttp: true, token: await chain.tokenDomain(model.feeToken) }),
          responseWindowS: model.responseWindow,
          manifestCid: model.manifestCid,
        })),
      ),
    });
  });

  app.get("/v1/openapi.json", (c) => c.json(openApiDocument(origin(c))));
  app.get("/healthz", async (c) => {
    const funds = await chain.relayerBalance();
    const funded = funds >= config.minRelayerBalanceWei;
    return c.json(
      {
        ok: funded,
        escrow: chain.escrow,
        relayer: chain.relayer,
        relayerBalanceWei: funds.toString(),
        minRelayerBalanceWei: config.minRelayerBalanceWei.toString(),
        load: { uploads: uploads.load, relays: relays.load },
      },
      funded ? 200 : 503,
    );
  });
  app.notFound((c) => c.json({ error: "not_found", message: `no route ${c.req.method} ${c.req.path}: see /v1/openapi.json` }, 404));
  return app;
}
