/**
 * What a Golem attempt uploads. golem-js 3.6's `uploadData` slices with `slice`, which on
 * a Node Buffer is a view: its flexbuffers encoder then sends the view's whole backing
 * store per chunk (test/golem-devnet/gsb-transfer.test.ts pins that behaviour), so every
 * file handed to it must own exactly its bytes.
 */
import { expect } from "chai";
import { chunkInputFiles } from "@argus/oracle/executors/golem/exe-script";
import type { Chunk } from "@argus/oracle/executors/executor";

describe("Golem executor: the files an attempt uploads", function () {
  it("are standalone Uint8Arrays even when the spool hands over Buffer views", function () {
    const backing = Buffer.alloc(200_000, 7);
    const image = backing.subarray(50_000, 132_000); // a view, as pooled or sliced reads are
    const chunk = {
      id: "chunk-1",
      batch: { requests: [{ imageFile: "a.jpg" }, { imageFile: "a.jpg" }] },
      images: new Map([["a.jpg", image]]),
      weightsSha256: "00".repeat(32),
    } as unknown as Chunk;

    const files = chunkInputFiles(chunk);

    expect([...files.keys()]).to.deep.equal(["batch.json", "a.jpg"]);
    const uploaded = files.get("a.jpg")!;
    expect(Buffer.isBuffer(uploaded)).to.equal(false);
    expect(uploaded.byteOffset).to.equal(0);
    expect(uploaded.buffer.byteLength).to.equal(image.byteLength);
    expect(Buffer.from(uploaded).equals(image)).to.equal(true);
  });
});
