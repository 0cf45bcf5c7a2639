import { expect } from "chai";
import { imageCidText, imageCidToBytes } from "@argus/protocol/cid";

describe("CID conventions: image CIDs as the escrow stores them, as text", () => {
  it("gives the CID back for valid CIDv0 and CIDv1 bytes", () => {
    for (const cid of ["QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"]) {
      const bytes = imageCidToBytes(cid);
      expect(imageCidText(bytes)).to.equal(cid);
      expect(imageCidText(`0x${Buffer.from(bytes).toString("hex")}`)).to.equal(cid);
    }
  });

  it("keeps bytes that are no CID as hex, so such a request can still be shown and refunded", () => {
    expect(imageCidText("0x0102030405")).to.equal("0x0102030405");
    expect(imageCidText(new Uint8Array([1, 2, 255]))).to.equal("0x0102ff");
  });
});
