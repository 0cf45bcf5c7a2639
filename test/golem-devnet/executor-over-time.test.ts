/**
 * The oracle's Golem executor over a day of wall-clock time on the devnet. The process's
 * clock is moved (support/wall-clock.ts), so golem-js writes demand expirations and
 * deadlines in the moved time, and the devnet's providers judge them by it.
 *
 * Skipped (saying why) without the shared photos and models, the built image, or
 * bubblewrap/squashfs-tools.
 */
import { expect } from "chai";
import { loadGolemConfig } from "@argus/oracle/executors/golem/config";
import { devnetSuite } from "./support/executor-run.ts";
import { type ShiftedWallClock, shiftWallClock } from "./support/wall-clock.ts";
import { providerSpecs } from "./support/yagna-harness.ts";

const HOUR_MS = 3_600_000;

describe("golem-devnet: the Golem executor over a day of emulated time", function () {
  this.timeout(600_000);
  const suite = devnetSuite();
  let clock: ShiftedWallClock | undefined;

  afterEach(function () {
    clock?.restore();
    clock = undefined;
  });

  it("rejects an agreement length too short to rebuild its demand in time", function () {
    expect(() => loadGolemConfig({ apiKey: "key", rentHours: 0.05 }, {})).to.throw(/rentHours/);
    expect(loadGolemConfig({ apiKey: "key", rentHours: 0.1 }, {}).rentHours).to.equal(0.1);
  });

  it("runs chunks at 0, 2, 6 and 26 hours with the default agreement length (1 h) and allocation (24 h)", async function () {
    const handle = await suite.start({ providers: providerSpecs(3, { threads: 2, memoryGib: 4 }) });
    // The devnet runs here and reads the shifted Date: it only runs the tasks that fell due.
    clock = shiftWallClock(() => handle.devnet.advanceClock(0));
    const run = await suite.executorOn(handle, {}, { now: clock.now });
    const outcomes: { atHours: number; ok: boolean; error?: string }[] = [];
    let atHours = 0;
    for (const next of [0, 2, 6, 26]) {
      await clock.advance((next - atHours) * HOUR_MS);
      atHours = next;
      try {
        const outcome = await run.executor.run(await run.chunk());
        outcomes.push({ atHours, ok: outcome.results.length === 1 });
      } catch (error) {
        outcomes.push({ atHours, ok: false, error: (error as Error).message });
      }
    }
    expect(outcomes).to.deep.equal([0, 2, 6, 26].map((hours) => ({ atHours: hours, ok: true })));
    expect(run.logs.filter((line) => line.message.startsWith("replacing a Golem rental pool")).length).to.be.at.least(1);
    expect(handle.devnet.violations()).to.deep.equal([]);
  });
});
