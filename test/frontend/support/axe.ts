/**
 * axe-core run inside the page (its own script injected, WCAG 2.x A/AA rules and best
 * practices), with the full report written next to the screenshots.
 */
import { createRequire } from "node:module";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { SCREENSHOTS_DIR } from "./stack.ts";

const AXE_SCRIPT = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** The page's axe violations (empty when clean); the report goes to test-output/frontend/axe-<name>.json. */
export async function axeViolations(page: Page, name: string): Promise<string[]> {
  await page.addScriptTag({ path: AXE_SCRIPT });
  const results = (await page.evaluate(() =>
    (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<unknown> }; document: unknown }).axe.run(
      (globalThis as unknown as { document: unknown }).document,
      {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
      },
    ),
  )) as { violations: AxeViolation[]; passes: unknown[] };
  await writeFile(join(SCREENSHOTS_DIR, `axe-${name}.json`), JSON.stringify(results, null, 2));
  return results.violations.map(
    (violation) =>
      `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`,
  );
}
