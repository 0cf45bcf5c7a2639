/**
 * A model's label set, as its manifest pins it (`labels`: file name, sha256, format, and
 * optionally where to download it): read, checked against the digest, parsed, and
 * searched by the model card's label list.
 */
import { resultBytesMatchDigest } from "@argus/protocol/cid";
import { type ModelManifest, parseLabels } from "@argus/protocol/manifest";

export type LabelsFile = ModelManifest["labels"];

/** Label files are a few tens of kilobytes (1000 ImageNet synsets: 31 KB); one IPFS block at most. */
export const MAX_LABELS_BYTES = 1024 * 1024;

/** The labels in `bytes`, if they are the file the manifest pins; throws otherwise. Index i names class i. */
export async function labelsFromBytes(bytes: Uint8Array, file: LabelsFile): Promise<string[]> {
  if (bytes.byteLength > MAX_LABELS_BYTES) throw new Error(`${file.file} is ${bytes.byteLength} bytes, too large for a label file.`);
  if (!(await resultBytesMatchDigest(bytes, `0x${file.sha256}`))) {
    throw new Error(`The copy of ${file.file} read does not match the sha256 its manifest pins.`);
  }
  return parseLabels(new TextDecoder().decode(bytes), file.format);
}

export interface LabelMatch {
  /** The class index: what results name as `classIndex`. */
  index: number;
  label: string;
}

/**
 * The labels containing `query` (case-insensitive; a number also finds its class index),
 * in class order: the first `limit` of them, and how many match in all.
 */
export function filterLabels(labels: readonly string[], query: string, limit: number): { matches: LabelMatch[]; total: number } {
  const needle = query.trim().toLowerCase();
  const index = /^\d+$/.test(needle) ? Number(needle) : undefined;
  const matches: LabelMatch[] = [];
  let total = 0;
  labels.forEach((label, classIndex) => {
    if (needle !== "" && classIndex !== index && !label.toLowerCase().includes(needle)) return;
    total++;
    if (matches.length < limit) matches.push({ index: classIndex, label });
  });
  return { matches, total };
}
