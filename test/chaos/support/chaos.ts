/**
 * The chaos suites take minutes (30-s outages, a minute of executor failures, a
 * 300-request crash run). `npm test` and `npm run test:chaos` run them (ARGUS_CHAOS=1);
 * a plain `hardhat test` during development skips them with a message.
 */
export function requireChaosRun(context: Mocha.Context): void {
  if (process.env.ARGUS_CHAOS === "1") return;
  console.warn(`SKIPPED: ${context.test?.parent?.fullTitle() ?? "chaos suite"} runs with npm run test:chaos (ARGUS_CHAOS=1).`);
  context.skip();
}
