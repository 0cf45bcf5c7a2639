/**
 * The chaos suites take minutes (30-s outages, a minute of executor failures, a
 * 300-request crash run), so they run from `npm run test:chaos` (ARGUS_CHAOS=1) and skip
 * with a message in the default `npm test`.
 */
export function requireChaosRun(context: Mocha.Context): void {
  if (process.env.ARGUS_CHAOS === "1") return;
  console.warn(`SKIPPED: ${context.test?.parent?.fullTitle() ?? "chaos suite"} runs with npm run test:chaos (ARGUS_CHAOS=1).`);
  context.skip();
}
