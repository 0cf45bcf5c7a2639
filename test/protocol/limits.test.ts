import { expect } from "chai";
import {
  formatBytes,
  imageTooLargeMessage,
  MAX_BATCH_SIZE,
  MAX_IMAGE_BYTES,
  MAX_IMAGE_PIXELS,
  MAX_RESULT_BYTES,
} from "@argus/protocol/limits";

describe("protocol: the shared size limits", function () {
  it("are the values every component assumes", function () {
    expect(MAX_IMAGE_BYTES).to.equal(2 * 1024 * 1024);
    expect(MAX_IMAGE_PIXELS).to.equal(40_000_000);
    expect(MAX_BATCH_SIZE).to.equal(16);
    expect(MAX_RESULT_BYTES).to.equal(1024 * 1024);
  });

  it("shows sizes in binary units", function () {
    expect(formatBytes(812)).to.equal("812 B");
    expect(formatBytes(3_000)).to.equal("3 KiB");
    expect(formatBytes(2 * 1024 * 1024)).to.equal("2 MiB");
    expect(formatBytes(3_000_000)).to.equal("2.9 MiB");
  });

  it("words an over-size image one way, with both sizes exact", function () {
    expect(imageTooLargeMessage(MAX_IMAGE_BYTES + 1)).to.equal(
      "the image file is 2.0 MiB (2,097,153 bytes); images can be at most 2 MiB (2,097,152 bytes).",
    );
    expect(imageTooLargeMessage(9_000, 8_192, "“a.png”")).to.match(/^“a\.png” is 9 KiB \(9,000 bytes\); images can be at most 8 KiB/);
  });
});
