/**
 * The CID conventions in provider-image/protocol/src/cid.ts that the contracts, the
 * oracle and the UI share.
 */
import { createHash } from "node:crypto";
import { expect } from "chai";
import { CID } from "multiformats/cid";
import {
  digestFromResultCid,
  imageCidFromBytes,
  imageCidToBytes,
  InvalidCidError,
  isValidImageCid,
  resultBytesMatchDigest,
  resultCidForBytes,
  resultCidFromDigest,
} from "@argus/protocol/cid";

const HELLO = new TextEncoder().encode("hello world\n");
// Kubo's README ("Some things to try"): `echo "hello world" > hello; ipfs add hello` gives this CIDv0.
const HELLO_V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";
// The same file added with `--cid-version=1` (raw leaves): a single raw block, so its
// CID is CIDv1(raw, sha256("hello world\n")); sha256sum prints a948904f…a447 for it.
const HELLO_V1_RAW = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";
const HELLO_SHA256 = "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447";

describe("IPFS CID conventions", function () {
  describe("results: CIDv1, raw, sha2-256", function () {
    it("derives the result CID from the on-chain digest alone, as bytes or 0x-hex", function () {
      const digest = createHash("sha256").update(HELLO).digest();
      expect(digest.toString("hex")).to.equal(HELLO_SHA256);
      expect(resultCidFromDigest(digest).toString()).to.equal(HELLO_V1_RAW);
      expect(resultCidFromDigest(`0x${HELLO_SHA256}`).toString()).to.equal(HELLO_V1_RAW);
    });

    it("round-trips digest -> CID -> digest", function () {
      for (let seed = 0; seed < 20; seed++) {
        const digest = createHash("sha256").update(`result ${seed}`).digest();
        const cid = resultCidFromDigest(digest);
        expect(cid.version).to.equal(1);
        expect(cid.code).to.equal(0x55);
        expect(Buffer.from(digestFromResultCid(cid)).equals(digest)).to.equal(true);
        expect(Buffer.from(digestFromResultCid(cid.toString())).equals(digest)).to.equal(true);
      }
    });

    it("computes the CID of result bytes and checks bytes against a digest", async function () {
      expect((await resultCidForBytes(HELLO)).toString()).to.equal(HELLO_V1_RAW);
      expect(await resultBytesMatchDigest(HELLO, `0x${HELLO_SHA256}`)).to.equal(true);
      expect(await resultBytesMatchDigest(new TextEncoder().encode("hello world"), `0x${HELLO_SHA256}`)).to.equal(false);
    });

    it("rejects a digest that is not 32 bytes", function () {
      expect(() => resultCidFromDigest(new Uint8Array(31))).to.throw(InvalidCidError, /32 bytes/);
      expect(() => resultCidFromDigest("0x1234")).to.throw(InvalidCidError);
      expect(() => resultCidFromDigest("0xzz" as `0x${string}`)).to.throw(InvalidCidError, /hex/);
    });

    it("refuses to read a digest out of anything but a CIDv1 raw sha2-256 CID", function () {
      expect(() => digestFromResultCid(HELLO_V0)).to.throw(InvalidCidError, /CIDv1 with codec raw/);
      const dagPbV1 = CID.parse(HELLO_V0).toV1().toString();
      expect(() => digestFromResultCid(dagPbV1)).to.throw(InvalidCidError, /codec raw/);
      // CIDv1 raw with an identity multihash.
      expect(() => digestFromResultCid("bafkqaaa")).to.throw(InvalidCidError, /sha2-256/);
      expect(() => digestFromResultCid("not-a-cid")).to.throw(InvalidCidError, /not a CID/);
    });
  });

  describe("images: CIDv0 or CIDv1 stored as raw CID bytes", function () {
    it("stores a CIDv0 as its 34-byte multihash and a CIDv1 as its 36 bytes", function () {
      const v0 = imageCidToBytes(HELLO_V0);
      expect(v0.length).to.equal(34);
      expect([v0[0], v0[1]]).to.deep.equal([0x12, 0x20]);
      const v1 = imageCidToBytes(CID.parse(HELLO_V0).toV1().toString());
      expect(v1.length).to.equal(36);
      expect([v1[0], v1[1], v1[2], v1[3]]).to.deep.equal([0x01, 0x70, 0x12, 0x20]);
      expect(imageCidToBytes(HELLO_V1_RAW).length).to.equal(36);
    });

    it("gives back the CID in its original version, from bytes or 0x-hex", function () {
      for (const text of [HELLO_V0, CID.parse(HELLO_V0).toV1().toString(), HELLO_V1_RAW]) {
        const bytes = imageCidToBytes(text);
        expect(imageCidFromBytes(bytes).toString()).to.equal(text);
        expect(imageCidFromBytes(`0x${Buffer.from(bytes).toString("hex")}`).toString()).to.equal(text);
      }
    });

    it("rejects garbage and CIDs that cannot be a UnixFS image", function () {
      expect(isValidImageCid(HELLO_V0)).to.equal(true);
      expect(isValidImageCid(` ${HELLO_V1_RAW} `)).to.equal(true);
      expect(isValidImageCid("")).to.equal(false);
      expect(isValidImageCid("QmNotACid")).to.equal(false);
      expect(() => imageCidToBytes("hello")).to.throw(InvalidCidError, /not a CID/);
      // dag-cbor (0x71) is not a UnixFS file.
      const dagCbor = CID.createV1(0x71, CID.parse(HELLO_V1_RAW).multihash).toString();
      expect(() => imageCidToBytes(dagCbor)).to.throw(InvalidCidError, /dag-pb \(0x70\) or raw/);
      expect(() => imageCidFromBytes(new Uint8Array([1, 2, 3]))).to.throw(InvalidCidError, /not a binary CID/);
    });
  });
});
