/**
 * What `npm run build:provider-image` leaves behind, and the one reader of it:
 * `provider-image/dist/argus-provider.gvmi` and, beside it, `image.json` — the image's
 * sha3-224 hash (what Golem demands and the model registry name), its size, the
 * container config in its trailer, and the inputs key it was built from. Registering
 * models (`scripts/deploy/register-models.ts`, `argus models add --provider-image`) and
 * `npm start -- --golem-devnet` take the hash from here, after checking that the file
 * beside the record still hashes to it: build → publish → register is one path.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { z } from "zod";

export const IMAGE_FILE_NAME = "argus-provider.gvmi";
export const IMAGE_RECORD_NAME = "image.json";
/** Where the build writes, relative to the repository root. */
export const DEFAULT_IMAGE_OUTPUT_DIR = "provider-image/dist";

const ImageRecordSchema = z.object({
  /** The image file's name, in the record's folder. */
  file: z.string().regex(/^[^/\\]+\.gvmi$/),
  /** sha3-224 of the whole file (gvmkit-build's hash), 56 lower-case hex digits. */
  hash: z.string().regex(/^[0-9a-f]{56}$/),
  sizeBytes: z.int().positive(),
  squashfsBytes: z.int().positive(),
  buildSeconds: z.number().min(0),
  /** The image-inputs.ts key of what went in; absent in records written before it existed. */
  inputsKey: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  config: z.record(z.string(), z.unknown()),
});
export type ImageRecord = z.infer<typeof ImageRecordSchema>;

/** A record read from disk, with the absolute paths of the record and its image. */
export interface BuiltImageRecord extends ImageRecord {
  recordPath: string;
  imagePath: string;
}

export class ImageRecordError extends Error {
  override name = "ImageRecordError";
}

export async function sha3_224OfFile(path: string): Promise<string> {
  const hash = createHash("sha3-224");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function writeImageRecord(outputDir: string, record: ImageRecord): Promise<string> {
  const path = join(outputDir, IMAGE_RECORD_NAME);
  await writeFile(path, `${JSON.stringify(ImageRecordSchema.parse(record), null, 2)}\n`);
  return path;
}

/**
 * Reads a build's record: `path` is image.json, the folder holding it, or the .gvmi
 * beside it. Throws an ImageRecordError that says what to run when it is missing or
 * malformed.
 */
export async function readImageRecord(path: string): Promise<BuiltImageRecord> {
  const recordPath = path.endsWith(".json")
    ? path
    : path.endsWith(".gvmi")
      ? join(dirname(path), IMAGE_RECORD_NAME)
      : join(path, IMAGE_RECORD_NAME);
  let text: string;
  try {
    text = await readFile(recordPath, "utf8");
  } catch (error) {
    throw new ImageRecordError(
      `no image build record at ${recordPath} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): build the image with \`npm run build:provider-image\``,
    );
  }
  let parsed: ReturnType<typeof ImageRecordSchema.safeParse>;
  try {
    parsed = ImageRecordSchema.safeParse(JSON.parse(text));
  } catch (error) {
    throw new ImageRecordError(`${recordPath} is not JSON: ${(error as Error).message}`);
  }
  if (!parsed.success) throw new ImageRecordError(`${recordPath} is not an image build record:\n${z.prettifyError(parsed.error)}`);
  if (path.endsWith(".gvmi") && basename(path) !== parsed.data.file)
    throw new ImageRecordError(`${recordPath} describes ${parsed.data.file}, not ${basename(path)}`);
  return { ...parsed.data, recordPath, imagePath: join(dirname(recordPath), parsed.data.file) };
}

/**
 * Checks that the image beside the record is the one it describes: its size, and (unless
 * `quick`) its sha3-224. A record whose file was rebuilt, truncated or replaced since
 * would register a hash no provider can download: that is refused here.
 */
export async function verifyImageRecord(record: BuiltImageRecord, options: { quick?: boolean } = {}): Promise<void> {
  const size = await stat(record.imagePath).then(
    (stats) => stats.size,
    () => undefined,
  );
  if (size === undefined) throw new ImageRecordError(`${record.imagePath} is missing: rebuild it with \`npm run build:provider-image\``);
  if (size !== record.sizeBytes)
    throw new ImageRecordError(`${record.imagePath} has ${size} bytes, ${record.recordPath} says ${record.sizeBytes}: rebuild the image`);
  if (options.quick) return;
  const hash = await sha3_224OfFile(record.imagePath);
  if (hash !== record.hash)
    throw new ImageRecordError(`${record.imagePath} hashes to ${hash}, ${record.recordPath} says ${record.hash}: rebuild the image`);
}
