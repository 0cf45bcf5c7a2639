/**
 * How many threads onnxruntime gets for a model, when the operator has not said: one,
 * or one per core, chosen from what the model's self-test measured on this machine.
 *
 * One thread is the cheapest way to run a network: on two cores a second one costs
 * 10–40% more CPU per image (the threads wait for each other at every layer, most on
 * the small runs a pipeline makes), and on a one-image graph it barely shortens the
 * run. The network's thread has the priority (decode-priority.ts), so it takes one core
 * whenever it has images and decoding uses the rest. That fails only when the network
 * alone is the longer job: when one core of inference per image outlasts what the
 * other cores decode meanwhile, the network gets every core.
 */
import { availableParallelism } from "node:os";
import { decodingCpuMs } from "../image/decoding-threads.ts";

export interface MeasuredCost {
  /** CPU time of the network's runs (on one thread). */
  inferenceMs: number;
  /** CPU time of everything else in the same work: decoding, preparing the input, reading the answers. */
  otherCpuMs: number;
}

export function chooseIntraOpThreads(cost: MeasuredCost, cores = availableParallelism()): number {
  if (cores <= 1) return 1;
  return cost.inferenceMs * (cores - 1) > cost.otherCpuMs ? cores : 1;
}

/**
 * Measures a piece of work for `chooseIntraOpThreads`: `onRun` hears the CPU time of each
 * network run (on the calling thread, which runs the network), `read` ends the
 * measurement. CPU time, not wall time, so that a machine busy with something else does
 * not make the network look dearer than it is. Where Linux tells the threads apart, the
 * rest is the CPU time of this thread and of the decoding threads (decoding-threads.ts)
 * only, so that whatever else the process runs meanwhile — an oracle's chain watcher,
 * the suites of a test run — is not taken for decoding; elsewhere it is the whole
 * process's. Start it with the decoder thread ready (`decoderReady`), or its start-up
 * counts as decoding.
 */
export function costMeter(): { onRun: (cpuMs: number) => void; read: () => MeasuredCost } {
  const processBefore = process.cpuUsage();
  const threadBefore = process.threadCpuUsage();
  const decodingBefore = decodingCpuMs();
  let inferenceMs = 0;
  return {
    onRun: (cpuMs) => {
      inferenceMs += cpuMs;
    },
    read: () => {
      const decodingAfter = decodingCpuMs();
      let spentMs: number;
      if (decodingBefore !== undefined && decodingAfter !== undefined) {
        const thread = process.threadCpuUsage(threadBefore);
        spentMs = (thread.user + thread.system) / 1000 + decodingAfter - decodingBefore;
      } else {
        const cpu = process.cpuUsage(processBefore);
        spentMs = (cpu.user + cpu.system) / 1000;
      }
      return { inferenceMs, otherCpuMs: Math.max(0, spentMs - inferenceMs) };
    },
  };
}
