/**
 * Debian's Chromium driven by playwright-core (Playwright's own browser downloads cannot
 * work here). One browser serves the whole suite; each session is a fresh context (its
 * own storage, viewport and injected wallet), which starts in milliseconds where a new
 * browser took seconds. Console errors and uncaught exceptions of its pages are
 * collected so a flow can assert there were none.
 */
import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.ARGUS_CHROMIUM ?? "/usr/bin/chromium";

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

export interface Session {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

export function assertChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the web UI end-to-end tests need Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set ARGUS_CHROMIUM)`,
    );
  }
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export async function openSession(
  browser: Browser,
  viewport = DESKTOP,
  setup?: (context: BrowserContext) => Promise<void>,
): Promise<Session> {
  const context = await browser.newContext({ viewport });
  await setup?.(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
    },
  };
}
