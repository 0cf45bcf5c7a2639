/**
 * A model's self-test score, as the registry's manifest records it: the manifest is read
 * by the CID the escrow stores, accepted only if its bytes hash to that CID, and its
 * `selfTest.measured` (written by `argus models add`, which refuses a model below the
 * threshold) is what the model picker shows.
 */
import { digestFromResultCid, resultBytesMatchDigest } from "@argus/protocol/cid";
import { type ModelManifest, parseManifest } from "@argus/protocol/manifest";

/** The manifest in `bytes`, if they are the ones `manifestCid` names; throws otherwise. */
export async function manifestFromBlock(bytes: Uint8Array, manifestCid: string): Promise<ModelManifest> {
  if (!(await resultBytesMatchDigest(bytes, digestFromResultCid(manifestCid)))) {
    throw new Error(`the block served for ${manifestCid} does not hash to it`);
  }
  return parseManifest(JSON.parse(new TextDecoder().decode(bytes)), `manifest ${manifestCid}`);
}

export interface SelfTestSummary {
  /** Short text for the picker: "6/6 reference photos". */
  text: string;
  /** pass: recorded at or above the threshold; unrecorded: registered without a score. */
  state: "pass" | "unrecorded";
  /** Why the weights are not trusted yet, when the manifest says so. */
  unverified?: string;
}

export function selfTestSummary(manifest: ModelManifest): SelfTestSummary {
  const { measured, referenceSet, minimumCorrect } = manifest.selfTest;
  const items = referenceSet === "coco-objects-v1" ? "reference objects" : "reference photos";
  const unverified = manifest.unverified === undefined ? {} : { unverified: manifest.unverified };
  if (measured === undefined) return { text: `not recorded (needs ${minimumCorrect} ${items} right)`, state: "unrecorded", ...unverified };
  return { text: `${measured.correct}/${measured.total} ${items}`, state: "pass", ...unverified };
}
