import { describe, it } from "vitest";
import { jobEvents } from "../../src/store/job-events.sql.ts";
import { TEST_API_TOKEN } from "../support/api-server.ts";
import { expectNoSidewaysScroll, useBrowser } from "../support/browser.ts";
import { insertJob } from "../support/job-fixture.ts";
import { REPOSITORY, useDashboardServer } from "./dashboard-fixtures.ts";

const server = useDashboardServer();
const browser = useBrowser();

const LONG_WORD = "a-very-long-branch-name-without-any-space-that-would-push-a-column-out-of-its-box-0123456789";

/** A running job with long text everywhere a column could be pushed wide, and a pipeline run. */
async function seed(): Promise<{ jobId: string; runId: string }> {
  const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
  const job = await insertJob(server.database.db, {
    status: "running",
    phase: "build",
    iterations: 1,
    startedAt: minutesAgo(6),
    branch: `agent/${LONG_WORD}`,
    task: `Refactor ${LONG_WORD} so the parser streams its input instead of reading the whole file into memory first, then measure it`,
    totalCost: 0.1234,
    totalTokensIn: 123_456,
    totalTokensOut: 7_890,
  });
  const events = [
    [6, "phase", "phase prepare started", null],
    [5, "phase", "phase explore started", null],
    [3, "phase", "phase plan started", null],
    [2.5, "plan", "plan ready: 1 step(s)", { plan: { summary: "Stream it.", steps: [{ title: "Stream the parser", detail: `Read ${LONG_WORD} in chunks`, files: [`src/${LONG_WORD}.ts`] }] } }],
    [2, "phase", "phase build started", null],
    [1.5, "tool", "bash", { tool: "bash", title: `npm test -- --grep ${LONG_WORD}`, status: "completed" }],
    [1, "tool", "edit", { tool: "edit", title: `src/${LONG_WORD}.ts`, status: "completed" }],
  ] as const;
  for (const [minutes, kind, message, data] of events) await server.database.db.insert(jobEvents).values({ jobId: job.id, kind, message, data, at: minutesAgo(minutes) });
  const stored = await server.api.call("POST", "/api/pipelines", {
    body: { repository: REPOSITORY, name: "ship", definition: { steps: [{ name: "survey", task: "Survey" }, { name: "code", task: "Code", depends_on: ["survey"] }, { name: "docs", task: "Docs", depends_on: ["survey"] }, { name: "release-notes-and-changelog", task: "Notes", depends_on: ["code", "docs"] }] } },
  });
  const pipeline = (await stored.json()) as { id: string };
  const run = (await (await server.api.call("POST", `/api/pipelines/${pipeline.id}/runs`, { body: {} })).json()) as { id: string };
  return { jobId: job.id, runId: run.id };
}

describe("the dashboard's layout", () => {
  it("fits a phone (390 px) and a laptop (1280 px) on every page: nothing scrolls sideways", async () => {
    const { jobId, runId } = await seed();
    for (const width of [390, 1280]) {
      const page = await browser.open(server.url, { token: TEST_API_TOKEN, width, height: 844 });
      const pages = [
        ["overview", "", ".lists .row"],
        ["start", "#/start", "select#repository"],
        ["job", `#/jobs/${jobId}`, ".activity-item.act-tool"],
        ["run", `#/runs/${runId}`, "svg.dag"],
      ] as const;
      for (const [name, hash, ready] of pages) {
        await page.evaluate(`location.hash = ${JSON.stringify(hash || "#/")}`);
        await page.locator(ready).first().waitFor();
        await expectNoSidewaysScroll(page);
        await browser.screenshot(page, `layout-${name}-${width}`);
      }
    }
  });
});
