/**
 * A `run` command's stdout/stderr as its ExeScriptCommandResult reports them.
 *
 * Two stages, as on a real provider:
 * 1. What reaches the exe-unit. ya-runtime-vm moves each stream through a 4 KiB
 *    (0x1000) cyclic buffer in the guest and reports the process's exit without waiting
 *    for that buffer to drain, so the end of a long output can be lost (yagna#2478,
 *    #3450: "stdout often gets truncated"). The devnet makes that loss deterministic:
 *    only the first 4 KiB of each stream arrives. A requestor that needs the end of a
 *    long output fails here as it could on Golem; one that reads results from a file
 *    does not care.
 * 2. What the exe-unit keeps (yagna exe-unit/src/output.rs, ya-client `Capture`): no
 *    capture → nothing; `atEnd` → everything, or `head`/`tail`/`headTail` N bytes (the
 *    head and tail buffers both see every byte, so a short output appears twice under
 *    `headTail`, as in yagna); `stream` → everything or its `limit` head. An empty
 *    capture is reported as no output at all.
 */

interface CaptureMode {
  atEnd?: { head?: number; tail?: number; headTail?: number; format?: string };
  stream?: { limit?: number; format?: string };
}

/** The `capture` object of a `run` command, as golem-js sends it (`{stdout: {atEnd: {format: "string"}}, …}`). */
export interface Capture {
  stdout?: CaptureMode;
  stderr?: CaptureMode;
}

function isCapture(value: unknown): value is Capture {
  return typeof value === "object" && value !== null;
}

function kept(bytes: Buffer, mode: CaptureMode): Buffer {
  if (mode.atEnd) {
    const { head, tail, headTail } = mode.atEnd;
    if (head !== undefined) return bytes.subarray(0, head);
    if (tail !== undefined) return bytes.subarray(Math.max(0, bytes.length - tail));
    if (headTail !== undefined) {
      const headLimit = Math.ceil(headTail / 2);
      const tailLimit = headTail - headLimit;
      const tailPart = tailLimit > 0 ? bytes.subarray(Math.max(0, bytes.length - tailLimit)) : Buffer.alloc(0);
      return Buffer.concat([bytes.subarray(0, headLimit), tailPart]);
    }
    return bytes;
  }
  if (mode.stream?.limit !== undefined) return bytes.subarray(0, mode.stream.limit);
  return bytes;
}

/** The text a result reports for one stream: `undefined` when not captured or empty. */
export function capturedText(delivered: Buffer, mode: CaptureMode | undefined): string | undefined {
  if (mode === undefined || (mode.atEnd === undefined && mode.stream === undefined)) return undefined;
  const bytes = kept(delivered, mode);
  return bytes.length === 0 ? undefined : bytes.toString("utf8");
}

export function captureOf(capture: unknown): Capture {
  return isCapture(capture) ? capture : {};
}
