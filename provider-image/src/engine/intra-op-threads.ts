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
  /** CPU time the other cores spend on the same work: decoding (where it cannot be told apart, everything but the runs). */
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
 * rest is the CPU time of the decoding threads only (decoding-threads.ts): what the other
 * cores must do while the network runs. The calling thread's own work beside the runs
 * (placing pixels, reading answers) is left out — it takes turns with the network on
 * that one thread, so it is no work for the other cores — and so is whatever else the
 * process runs meanwhile, on that thread or another: an oracle's chain watcher, the
 * suites of a test run. Elsewhere it is the whole process's. Start it with the decoder
 * thread ready (`decoderReady`), or its start-up counts as decoding.
 */
export function costMeter(): { onRun: (cpuMs: number) => void; read: () => MeasuredCost } {
  const processBefore = process.cpuUsage();
  const decodingBefore = decodingCpuMs();
  let inferenceMs = 0;
  return {
    onRun: (cpuMs) => {
      inferenceMs += cpuMs;
    },
    read: () => {
      const decodingAfter = decodingCpuMs();
      if (decodingBefore !== undefined && decodingAfter !== undefined) {
        return { inferenceMs, otherCpuMs: decodingAfter - decodingBefore };
      }
      const cpu = process.cpuUsage(processBefore);
      return { inferenceMs, otherCpuMs: Math.max(0, (cpu.user + cpu.system) / 1000 - inferenceMs) };
    },
  };
}
