/**
 * `npm run bench:engine-memory [-- --model ID --models-dir DIR]`
 *
 * The memory a provider needs: the peak resident set of one 16-image chunk of the
 * largest image the engine accepts (ARGUS_MAX_IMAGE_PIXELS within ARGUS_MAX_IMAGE_BYTES),
 * as a JPEG (which libvips decodes shrunk) and as a PNG (which it must decode whole).
 * Each runs in a fresh process (VmHWM starts afresh at exec) with 1, 2 and 4 images
 * decoding at once. A provider decodes two images per core, up to libuv's pool (16 in
 * the image), so a VM with the executor's `maxCpuThreads` (8) decodes 16 at once: the
 * peak there is projected from the measured cost of each concurrent decode, and the
 * memory requirement the executor should demand (`minMemGib`) is that with 25 % headroom.
 * The last line is one JSON object.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import sharp from "sharp";
import { createEngine } from "@argus/provider-image/engine";
import { DEFAULT_IMAGE_LIMITS } from "@argus/provider-image/image-limits";
import { SHARED_IMAGES_DIR, SHARED_MODELS_DIR } from "../../test/support/shared.ts";

const BATCH = 16;
const MEASURED_CONCURRENCY = [1, 2, 4];
/** Two decodes per core up to the image's UV_THREADPOOL_SIZE of 16: a VM of 8 threads or more. */
const PROVIDER_CONCURRENCY = 16;
const HEADROOM = 1.25;
const CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";

const { values: flags } = parseArgs({
  options: {
    model: { type: "string", default: "mobilenetv2-12-int8" },
    "models-dir": { type: "string" },
    child: { type: "string" },
    concurrency: { type: "string" },
  },
});
const modelId = flags.model;
const modelsDir = flags["models-dir"] ?? process.env.ARGUS_MODELS_DIR ?? SHARED_MODELS_DIR;
const referencePhotosDir = process.env.ARGUS_REFERENCE_PHOTOS_DIR ?? SHARED_IMAGES_DIR;

if (flags.child !== undefined) {
  await measureInChild(flags.child, Number(flags.concurrency));
  process.exit(0);
}

interface Peak {
  peakMiB: number;
  afterLoadMiB: number;
}

const { maxPixels, maxBytes } = DEFAULT_IMAGE_LIMITS;
const side = Math.floor(Math.sqrt(maxPixels));
const dir = await mkdtemp(join(tmpdir(), "argus-bench-memory-"));
const formats: Record<string, { fileKiB: number; peaks: Record<number, Peak> }> = {};
try {
  for (const [format, bytes] of [
    ["jpeg", await largestJpeg(side, maxBytes)],
    ["png", await largestPng(side, maxBytes)],
  ] as const) {
    const image = join(dir, `largest.${format}`);
    await writeFile(image, bytes);
    const peaks: Record<number, Peak> = {};
    for (const concurrency of MEASURED_CONCURRENCY) peaks[concurrency] = await childPeak(image, concurrency);
    formats[format] = { fileKiB: Math.round(bytes.length / 1024), peaks };
    console.log(
      `${format} ${side}×${side} (${Math.round(bytes.length / 1024)} KiB): peak ` +
        MEASURED_CONCURRENCY.map((concurrency) => `${peaks[concurrency]!.peakMiB} MiB at ${concurrency}`).join(", ") +
        ` decoding at once (${peaks[1]!.afterLoadMiB} MiB after loading the model)`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

// The worse format decides; each extra concurrent decode costs the slope between the ends.
const worst = Object.entries(formats).reduce((a, b) => (b[1].peaks[4]!.peakMiB > a[1].peaks[4]!.peakMiB ? b : a));
const [worstFormat, { peaks }] = worst;
const low = MEASURED_CONCURRENCY[0]!;
const high = MEASURED_CONCURRENCY.at(-1)!;
const perDecodeMiB = Math.max(0, (peaks[high]!.peakMiB - peaks[low]!.peakMiB) / (high - low));
const projectedMiB = Math.round(peaks[high]!.peakMiB + (PROVIDER_CONCURRENCY - high) * perDecodeMiB);
const minMemGib = Math.ceil(((projectedMiB * HEADROOM) / 1024) * 2) / 2;
console.log(
  `each concurrent ${worstFormat} decode adds ${Math.round(perDecodeMiB)} MiB; ${PROVIDER_CONCURRENCY} at once ` +
    `(a provider of 8+ threads) would peak near ${projectedMiB} MiB: demand ${minMemGib} GiB`,
);
console.log(
  JSON.stringify({
    model: modelId,
    batch: BATCH,
    image: `${side}x${side}`,
    peakMiB: Object.fromEntries(
      Object.entries(formats).map(([format, entry]) => [
        format,
        Object.fromEntries(Object.entries(entry.peaks).map(([n, p]) => [n, p.peakMiB])),
      ]),
    ),
    afterLoadMiB: peaks[low]!.afterLoadMiB,
    perDecodeMiB: Math.round(perDecodeMiB),
    projectedPeakMiB: { [PROVIDER_CONCURRENCY]: projectedMiB },
    minMemGib,
  }),
);

async function childPeak(image: string, concurrency: number): Promise<Peak> {
  const script = fileURLToPath(import.meta.url);
  const args = [script, "--child", image, "--concurrency", String(concurrency), "--model", modelId, "--models-dir", modelsDir];
  const { stdout } = await promisify(execFile)(process.execPath, args, {
    maxBuffer: 1 << 20,
    env: { ...process.env, ARGUS_REFERENCE_PHOTOS_DIR: referencePhotosDir, UV_THREADPOOL_SIZE: "16" },
  });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Peak;
}

/** In the child: 16 copies of the image through the whole pipeline once, `concurrency` decoding at a time. */
async function measureInChild(imagePath: string, concurrency: number): Promise<void> {
  const engine = createEngine({ referencePhotosDir, modelsDir, decodeConcurrency: concurrency });
  const image = await readFile(imagePath);
  await engine.load(modelId);
  const afterLoadMiB = await peakRssMiB();
  const requests = Array.from({ length: BATCH }, (_, index) => ({ requestId: String(index + 1), imageCid: CID, image: { bytes: image } }));
  const results = await engine.run(modelId, requests);
  const failed = results.find((result) => "error" in result);
  if (failed) throw new Error(`the largest image failed: ${JSON.stringify(failed)}`);
  console.log(JSON.stringify({ peakMiB: await peakRssMiB(), afterLoadMiB } satisfies Peak));
}

/** This process's resident-set high-water mark (Linux VmHWM: starts afresh at exec). */
async function peakRssMiB(): Promise<number> {
  const status = await readFile("/proc/self/status", "utf8").catch(() => "");
  const kilobytes = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  return Math.round((kilobytes === undefined ? process.resourceUsage().maxRSS : Number(kilobytes)) / 1024);
}

/** A smooth gradient, side × side, as a PNG (it compresses to almost nothing, so any pixel count fits the byte cap). */
async function largestPng(side: number, maxBytes: number): Promise<Buffer> {
  const pixels = Buffer.alloc(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) pixels.set([(x * 255) / side, (y * 255) / side, 128], (y * side + x) * 3);
  }
  const png = await sharp(pixels, { raw: { width: side, height: side, channels: 3 }, limitInputPixels: false })
    .png({ compressionLevel: 9 })
    .toBuffer();
  if (png.length > maxBytes) throw new Error(`a ${side}×${side} gradient PNG takes ${png.length} bytes, more than ${maxBytes}`);
  return png;
}

/** A real photo scaled up to side × side, as a JPEG no larger than `maxBytes` (lower quality until it fits). */
async function largestJpeg(side: number, maxBytes: number): Promise<Buffer> {
  const photo = await readFile(join(SHARED_IMAGES_DIR, "wml_cat.jpg"));
  for (const quality of [80, 60, 40, 20, 10]) {
    const jpeg = await sharp(photo, { limitInputPixels: false }).resize(side, side, { fit: "fill" }).jpeg({ quality }).toBuffer();
    if (jpeg.length <= maxBytes) return jpeg;
  }
  throw new Error(`cannot fit a ${side}×${side} JPEG into ${maxBytes} bytes`);
}
