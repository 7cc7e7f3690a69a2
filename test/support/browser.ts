import { existsSync } from "node:fs";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { HANG_MS } from "./patience.ts";

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it): nothing downloads a browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";
/** Why the browser tests cannot run here (a skip note), or null: Chromium is not required to develop, but CI has it. */
export const NO_CHROMIUM = existsSync(CHROMIUM_PATH) ? null : `needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium; .ci/run installs it)`;
/** Without the background-networking flags Chromium keeps trying to reach Google's hosts (FIELD-NOTES). */
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/**
 * Statuses the dashboard asks for knowing they may come, and shows as such: a refused token
 * (401), no write access (403), an endpoint an older server lacks or an unknown id (404),
 * an ended job (409), a path the tests' API server does not serve (418), a refused form
 * (422). Chromium logs each as a console error; any other console error fails the test.
 */
const HANDLED_STATUS = /^Failed to load resource: the server responded with a status of (401|403|404|409|418|422)\b/;

export const TOKEN_KEY = "running-agent-token";

export interface PageOptions {
  /** The viewport's width in CSS pixels (default 1280); a phone is 390. */
  width?: number;
  height?: number;
  /** The API token the page starts with, as if pasted earlier in the tab; null for none. */
  token: string | null;
  /** Paths answered 404 `no such endpoint`, as a server from before they existed does. */
  answer404?: readonly string[];
}

export interface DashboardBrowser {
  /** A page of its own (its own storage and cookies) at `url`. */
  open(url: string, options: PageOptions): Promise<Page>;
  /** A screenshot of the whole page (or of what the window shows) into the run's screenshot folder; its path. */
  screenshot(page: Page, name: string, options?: { fullPage?: boolean }): Promise<string>;
}

/**
 * One headless Chromium for the test file, a fresh context per page, and the test failed
 * on any console error or uncaught error in a page (the dashboard must show failures, not
 * throw them), and on any answer of 500 or more. Screenshots go to DASHBOARD_SCREENSHOTS
 * when set (to be looked at), otherwise to a temporary folder removed at the end.
 */
export function useBrowser(): DashboardBrowser {
  let browser: Browser;
  let screenshots: string;
  const keepScreenshots = Boolean(process.env.DASHBOARD_SCREENSHOTS);
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  beforeEach((context) => {
    if (NO_CHROMIUM) context.skip(NO_CHROMIUM);
  });
  beforeAll(async () => {
    if (NO_CHROMIUM) return;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
    screenshots = keepScreenshots ? path.resolve(process.env.DASHBOARD_SCREENSHOTS!) : await mkdtemp(path.join(os.tmpdir(), "dashboard-screens-"));
    await mkdir(screenshots, { recursive: true });
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    const seen = errors.splice(0);
    expect(seen, "errors in the page's console").toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    if (screenshots && !keepScreenshots) await rm(screenshots, { recursive: true, force: true });
  });

  return {
    async open(url, options) {
      const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 }, serviceWorkers: "block" });
      contexts.push(context);
      context.setDefaultTimeout(HANG_MS);
      if (options.token !== null) {
        // Once per tab, as a person pastes it: a later "Forget" is not undone by a reload.
        // (A script's text: the tests are typed without the DOM's globals.)
        await context.addInitScript({
          content: `if (sessionStorage.getItem("test-seeded") === null) { sessionStorage.setItem("test-seeded", "1"); sessionStorage.setItem(${JSON.stringify(TOKEN_KEY)}, ${JSON.stringify(options.token)}); }`,
        });
      }
      const missing = new Set(options.answer404 ?? []);
      if (missing.size > 0) {
        await context.route(
          (url) => missing.has(url.pathname),
          (route) => route.fulfill({ status: 404, contentType: "application/json", body: JSON.stringify({ error: "no such endpoint" }) }),
        );
      }
      const page = await context.newPage();
      page.on("console", (message) => {
        if (message.type() === "error" && !HANDLED_STATUS.test(message.text())) errors.push(`console: ${message.text()} (${message.location().url})`);
      });
      page.on("pageerror", (error) => errors.push(`page error: ${error.stack ?? error.message}`));
      page.on("response", (response) => {
        if (response.status() >= 500) errors.push(`HTTP ${response.status()} from ${response.request().method()} ${response.url()}`);
      });
      await page.goto(url);
      return page;
    },
    async screenshot(page, name, screenshotOptions = {}) {
      const file = path.join(screenshots, `${name}.png`);
      await page.screenshot({ path: file, fullPage: screenshotOptions.fullPage ?? true });
      return file;
    },
  };
}

/** Wait until `locator` has an element whose text contains `text`. */
export async function waitForText(locator: Locator, text: string | RegExp): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor();
}

/** The page is no wider than its viewport: nothing scrolls sideways, nothing is clipped at the edge. */
export async function expectNoSidewaysScroll(page: Page): Promise<void> {
  const sizes = await page.evaluate<{ scrollWidth: number; innerWidth: number }>("({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })");
  expect(sizes.scrollWidth, `the page scrolls sideways at ${sizes.innerWidth} px`).toBeLessThanOrEqual(sizes.innerWidth);
}
