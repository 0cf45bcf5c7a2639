/**
 * Runs one input chunk through the network: a single `session.run` for the whole
 * chunk. Should that fail, a dynamic-batch model retries image by image, so that an
 * image the network chokes on costs only its own request (INFERENCE_FAILED) and the
 * others still get their predictions.
 */
import type { Tensor } from "onnxruntime-node";
import type { InputChunk } from "./input-chunks.ts";
import { inputDims, toOrtTensor } from "./input-tensor.ts";
import type { LoadedModel } from "./loaded-model.ts";
import type { ErrorCode } from "@argus/protocol/result";

/**
 * A slot's share of the output, or why it has none. `runMs` and `cpuMs` are the wall and
 * CPU time of the network's run that computed it (of `imagesInRun` images).
 */
export type SlotOutcome =
  | { values: ArrayLike<number>; offset: number; runMs: number; cpuMs: number; imagesInRun: number }
  | { rejection: { code: ErrorCode; message: string } };

/** One outcome per slot of `chunk`, in slot order. */
export async function inferChunk(model: LoadedModel, chunk: InputChunk): Promise<SlotOutcome[]> {
  try {
    const { values, runMs, cpuMs } = await runSession(model, chunk.data, chunk.runSize);
    return chunk.slots.map((_, slotIndex) => ({
      values,
      offset: slotIndex * model.outputValuesPerImage,
      runMs,
      cpuMs,
      imagesInRun: chunk.slots.length,
    }));
  } catch (error) {
    if (model.fixedBatchSize !== null || chunk.slots.length === 1) {
      return chunk.slots.map(() => ({ rejection: inferenceFailure(error) }));
    }
    const perImage = chunk.data.length / chunk.runSize;
    const outcomes: SlotOutcome[] = [];
    for (let slotIndex = 0; slotIndex < chunk.slots.length; slotIndex++) {
      const single = chunk.data.subarray(slotIndex * perImage, (slotIndex + 1) * perImage);
      outcomes.push(...(await inferChunk(model, { data: single, runSize: 1, slots: [chunk.slots[slotIndex]!] })));
    }
    return outcomes;
  }
}

async function runSession(
  model: Pick<LoadedModel, "manifest" | "session" | "inputName" | "outputName">,
  data: InputChunk["data"],
  runSize: number,
): Promise<{ values: ArrayLike<number>; runMs: number; cpuMs: number }> {
  const feeds: Record<string, Tensor> = { [model.inputName]: toOrtTensor(data, inputDims(model.manifest, runSize)) };
  // onnxruntime-node computes in a setImmediate callback of its own, on this thread, and
  // whatever the event loop runs before it (an oracle's timers, say) is not the network's
  // time. An immediate queued just before it runs just before it: the run's time starts
  // there. Should a version compute at once instead, that mark comes too late and the
  // whole call is timed.
  const called = mark();
  let started: ReturnType<typeof mark> | undefined;
  setImmediate(() => {
    started = mark();
  });
  const outputs = await model.session.run(feeds, [model.outputName]);
  const ended = mark();
  const from = started ?? called;
  const tensor = outputs[model.outputName];
  if (tensor === undefined) throw new Error(`the network returned no "${model.outputName}"`);
  return { values: tensor.data as ArrayLike<number>, runMs: ended.wallMs - from.wallMs, cpuMs: ended.cpuMs - from.cpuMs };
}

/** Wall and this thread's CPU time, in milliseconds. */
function mark(): { wallMs: number; cpuMs: number } {
  const cpu = process.threadCpuUsage();
  return { wallMs: performance.now(), cpuMs: (cpu.user + cpu.system) / 1000 };
}

function inferenceFailure(error: unknown): { code: ErrorCode; message: string } {
  return { code: "INFERENCE_FAILED", message: `the network failed on this image: ${(error as Error)?.message ?? String(error)}` };
}
