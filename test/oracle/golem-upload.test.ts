/**
 * What the Golem executor hands golem-js to upload. golem-js serves each gftp chunk a
 * provider asks for as `data.slice(offset, offset + size)` encoded with flexbuffers (its
 * WebSocket storage provider's publishData), and flexbuffers writes a typed array's
 * whole underlying buffer. Found on the Golem devnet: a Node Buffer's slice is a view, so
 * an image read from the spool arrived once per 40-KiB chunk (a 365-KB photo as 3.3 MB,
 * rejected as too large; smaller ones silently padded with copies of themselves).
 */
import { expect } from "chai";
import * as flexbuffers from "flatbuffers/js/flexbuffers.js";
import type { Chunk } from "@argus/oracle/executors/executor";
import { chunkInputFiles } from "@argus/oracle/executors/golem/exe-script";

const GFTP_CHUNK_BYTES = 40 * 1024; // what yagna's gftp (and the devnet's providers) ask for

/** The file as a provider reassembles it from golem-js's GetChunk replies. */
function servedAsGolemJsServesIt(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let offset = 0; offset < data.byteLength; offset += GFTP_CHUNK_BYTES) {
    const reply = flexbuffers.encode({ id: "1", payload: { content: data.slice(offset, offset + GFTP_CHUNK_BYTES), offset } });
    parts.push((flexbuffers.toObject(reply.buffer as ArrayBuffer) as { payload: { content: Uint8Array } }).payload.content);
  }
  return Buffer.concat(parts);
}

describe("Golem executor: the files it uploads", function () {
  it("arrive byte for byte, even when the chunk's images are Node Buffers (as the spool reads them)", function () {
    const photo = Buffer.alloc(365_037);
    for (let index = 0; index < photo.length; index++) photo[index] = (index * 7919) % 251;
    // The failure this guards against, shown with the Buffer itself:
    expect(servedAsGolemJsServesIt(photo).byteLength).to.equal(photo.byteLength * Math.ceil(photo.byteLength / GFTP_CHUNK_BYTES));

    const chunk: Chunk = {
      id: "c1",
      batch: {
        batchVersion: 1,
        modelId: "m",
        requests: [{ requestId: "1", imageCid: "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq", imageFile: "0.img" }],
      },
      images: new Map([["0.img", photo]]),
      weightsSha256: "00".repeat(32),
    };
    const files = chunkInputFiles(chunk);
    expect([...files.keys()]).to.deep.equal(["batch.json", "0.img"]);
    for (const [name, bytes] of files) expect(Buffer.compare(servedAsGolemJsServesIt(bytes), Buffer.from(bytes)), name).to.equal(0);
    expect(Buffer.compare(Buffer.from(files.get("0.img")!), photo)).to.equal(0);
  });
});
