import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { filterLabels, type LabelsFile, labelsFromBytes, MAX_LABELS_BYTES } from "./labels.ts";

const SYNSETS = "n01440764 tench, Tinca tinca\nn02123045 tabby, tabby cat\nn02123159 tiger cat\nn02124075 Egyptian cat\n";

function pinned(text: string, format: LabelsFile["format"] = "synset-lines"): { bytes: Uint8Array; file: LabelsFile } {
  const bytes = new Uint8Array(Buffer.from(text));
  return { bytes, file: { file: "labels.txt", format, sha256: createHash("sha256").update(bytes).digest("hex") } };
}

describe("a manifest's label file", () => {
  it("is read as its format says, once its bytes match the pinned sha256", async () => {
    const { bytes, file } = pinned(SYNSETS);
    expect(await labelsFromBytes(bytes, file)).toEqual(["tench, Tinca tinca", "tabby, tabby cat", "tiger cat", "Egyptian cat"]);
    const json = pinned('["person","bicycle","car"]', "json-array");
    expect(await labelsFromBytes(json.bytes, json.file)).toEqual(["person", "bicycle", "car"]);
  });

  it("is refused when the bytes are not the pinned file, or too large to be one", async () => {
    const { file } = pinned(SYNSETS);
    await expect(labelsFromBytes(new Uint8Array(Buffer.from(SYNSETS.replace("tiger", "tigre"))), file)).rejects.toThrow(
      /does not match the sha256/,
    );
    await expect(labelsFromBytes(new Uint8Array(MAX_LABELS_BYTES + 1), file)).rejects.toThrow(/too large/);
  });
});

describe("filtering labels", () => {
  const labels = ["tench, Tinca tinca", "tabby, tabby cat", "tiger cat", "Egyptian cat", "bus"];

  it("matches case-insensitively anywhere in the name, in class order, with each class index", () => {
    expect(filterLabels(labels, "  CAT ", 100)).toEqual({
      matches: [
        { index: 1, label: "tabby, tabby cat" },
        { index: 2, label: "tiger cat" },
        { index: 3, label: "Egyptian cat" },
      ],
      total: 3,
    });
    expect(filterLabels(labels, "zebra", 100)).toEqual({ matches: [], total: 0 });
  });

  it("lists everything for an empty filter, and finds a class by its index", () => {
    expect(filterLabels(labels, "", 100).total).toBe(5);
    expect(filterLabels(labels, "4", 100).matches).toEqual([{ index: 4, label: "bus" }]);
  });

  it("returns only the first matches of a long set, with the total", () => {
    const thousand = Array.from({ length: 1000 }, (_, index) => `class ${index}`);
    const { matches, total } = filterLabels(thousand, "", 100);
    expect([matches.length, total, matches[99]!.index]).toEqual([100, 1000, 99]);
    expect(filterLabels(thousand, "class 99", 100).total).toBe(11); // 99, 990–999
  });
});
