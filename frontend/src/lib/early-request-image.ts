/**
 * A request page's photo, found by the entry chunk while the app chunk is still loading:
 * the photo is the page's largest paint, and the app (viem, wagmi, react-query) would find
 * it only after its own download, start-up and reads. The entry reads three fields of the
 * deployment record without the schema (the app validates the record as usual) and the
 * request's image CID with one eth_getLogs; the app shows the same URL while it reads the
 * rest, so the photo stays on screen from the first paint on.
 *
 * Best effort: any failure leaves the lookup empty and the page to the app, which reports
 * what went wrong.
 */
import { findRequestImageCid } from "@argus/escrow/request-image";
import { gatewayFileUrl } from "../ipfs/gateway-url.ts";

/** How long the lookup may take before the entry stops waiting for it (the app takes over). */
export const EARLY_IMAGE_TIMEOUT_MS = 3_000;

const found = new Map<bigint, string>();

/** The photo's URL if the entry chunk has found it for request `requestId`. */
export function earlyRequestImage(requestId: bigint): string | undefined {
  return found.get(requestId);
}

/**
 * Looks up request `requestId`'s photo from the deployment record's `response` (cloned at
 * once: the app reads the body too). Resolves to its gateway URL, or undefined.
 */
export function lookUpRequestImage(requestId: bigint, response: Promise<Response>): Promise<string | undefined> {
  const signal = AbortSignal.timeout(EARLY_IMAGE_TIMEOUT_MS);
  return response
    .then((answer) => answer.clone().json())
    .then(async (record: unknown) => {
      const fields = recordFields(record);
      if (fields === undefined) return undefined;
      const cid = await findRequestImageCid({ rpcUrl: fields.rpcUrl, escrow: fields.escrow, requestId, signal });
      // Hex: bytes that are no CID. The app says so; there is no file to show.
      if (cid === undefined || cid.startsWith("0x")) return undefined;
      const url = gatewayFileUrl(fields.gatewayUrl, cid);
      found.set(requestId, url);
      return url;
    })
    .catch(() => undefined);
}

/** How long the app waits for the early photo to be on screen before it loads anyway. */
export const EARLY_IMAGE_PAINT_WAIT_MS = 1_500;

/**
 * Resolves once the photo at `url` has loaded and a frame has been drawn since (the entry
 * shows it), or after EARLY_IMAGE_PAINT_WAIT_MS (a hidden tab draws no frames; a slow
 * gateway must not hold the app back), whichever comes first.
 */
export function afterImagePainted(url: string): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, EARLY_IMAGE_PAINT_WAIT_MS);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const image = new Image();
    image.src = url;
    image.decode().then(() => requestAnimationFrame(() => setTimeout(done)), done);
  });
}

/** The record's RPC URL, escrow and gateway, when they are strings; the app's schema checks the rest. */
function recordFields(record: unknown): { rpcUrl: string; escrow: string; gatewayUrl: string } | undefined {
  const value = record as
    | { chain?: { rpcUrl?: unknown }; contracts?: { predictionEscrow?: { address?: unknown } }; ipfs?: { gatewayUrl?: unknown } }
    | undefined;
  const rpcUrl = value?.chain?.rpcUrl;
  const escrow = value?.contracts?.predictionEscrow?.address;
  const gatewayUrl = value?.ipfs?.gatewayUrl;
  return typeof rpcUrl === "string" && typeof escrow === "string" && typeof gatewayUrl === "string"
    ? { rpcUrl, escrow, gatewayUrl }
    : undefined;
}
