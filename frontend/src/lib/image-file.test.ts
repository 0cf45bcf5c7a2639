import { describe, expect, it } from "vitest";
import { MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS } from "@argus/protocol/limits";
import { checkImage, checkImageFile, type ImageDecoder, sniffImageFormat } from "./image-file.ts";

const bytes = (...values: (number | string)[]) =>
  new Uint8Array(values.flatMap((value) => (typeof value === "string" ? Array.from(value, (char) => char.charCodeAt(0)) : [value])));

describe("image checks before upload", () => {
  it("recognises the engine's formats by their leading bytes", () => {
    expect(sniffImageFormat(bytes(0xff, 0xd8, 0xff, 0xe0))).toBe("jpeg");
    expect(sniffImageFormat(bytes(0x89, "PNG", 0x0d, 0x0a, 0x1a, 0x0a))).toBe("png");
    expect(sniffImageFormat(bytes("GIF89a"))).toBe("gif");
    expect(sniffImageFormat(bytes("RIFF", 0, 0, 0, 0, "WEBPVP8 "))).toBe("webp");
    expect(sniffImageFormat(bytes(0, 0, 0, 0x1c, "ftypavif"))).toBe("avif");
    expect(sniffImageFormat(bytes("<html>"))).toBeUndefined();
    expect(sniffImageFormat(bytes("BM"))).toBeUndefined();
  });

  it("refuses a file over 2 MiB, whatever it is", () => {
    const check = checkImage(MAX_IMAGE_BYTES + 1, bytes(0xff, 0xd8, 0xff), "big.jpg");
    expect(check).toMatchObject({ ok: false, reason: "too-large" });
    expect(check.ok ? "" : check.message).toMatch(/at most 2 MiB.*Nothing was uploaded/);
    expect(checkImage(MAX_IMAGE_BYTES, bytes(0xff, 0xd8, 0xff)).ok).toBe(true);
  });

  it("refuses empty files and non-images named like images", async () => {
    expect(checkImage(0, new Uint8Array())).toMatchObject({ ok: false, reason: "empty" });
    const fake = new File(["<html>not a photo</html>"], "cat.jpg", { type: "image/jpeg" });
    expect(await checkImageFile(fake)).toMatchObject({ ok: false, reason: "not-an-image" });
  });

  it("does not read an oversized file", async () => {
    const big = new File([new Uint8Array(MAX_IMAGE_BYTES + 10)], "huge.png", { type: "image/png" });
    expect(await checkImageFile(big)).toMatchObject({ ok: false, reason: "too-large" });
  });
});

describe("image checks that need a decoder", () => {
  // Stands in for the browser's <img>/createImageBitmap (the e2e tests run the real ones in Chromium).
  const decoderFor = (width: number, height: number, decodes = true, readable = true): ImageDecoder => ({
    dimensions: async () => {
      if (!readable) throw new Error("unreadable header");
      return { width, height };
    },
    decode: async () => {
      if (!decodes) throw new Error("corrupt data");
    },
  });
  const jpeg = () => new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])], "p.jpg");

  it("refuses more pixels than the protocol allows, naming both counts", async () => {
    const side = Math.ceil(Math.sqrt(MAX_IMAGE_PIXELS)) + 1;
    const check = await checkImageFile(jpeg(), decoderFor(side, side));
    expect(check).toMatchObject({ ok: false, reason: "too-many-pixels" });
    expect(check.ok ? "" : check.message).toContain(`at most ${MAX_IMAGE_PIXELS.toLocaleString("en")} pixels`);
    expect(await checkImageFile(jpeg(), decoderFor(MAX_IMAGE_PIXELS / 1000, 1000))).toMatchObject({ ok: true, width: 40_000 });
  });

  it("refuses an image whose header or data the browser cannot decode", async () => {
    expect(await checkImageFile(jpeg(), decoderFor(10, 10, false))).toMatchObject({ ok: false, reason: "undecodable" });
    expect(await checkImageFile(jpeg(), decoderFor(10, 10, true, false))).toMatchObject({ ok: false, reason: "undecodable" });
  });

  it("does not decode what is already refused by its bytes", async () => {
    let asked = false;
    const decoder: ImageDecoder = {
      dimensions: async () => {
        asked = true;
        return { width: 1, height: 1 };
      },
      decode: async () => {},
    };
    await checkImageFile(new File(["<html>"], "x.jpg"), decoder);
    expect(asked).toBe(false);
  });
});
