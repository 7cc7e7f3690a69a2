import { describe, expect, it } from "vitest";
import type { JobStatus } from "../../src/store/jobs.sql.ts";
import { agentPullRequests } from "../../src/store/pull-requests.sql.ts";
import { TEST_API_TOKEN } from "../support/api-server.ts";
import { useBrowser, waitForText } from "../support/browser.ts";
import { insertJob } from "../support/job-fixture.ts";
import { useDashboardServer } from "./dashboard-fixtures.ts";

const server = useDashboardServer();
const browser = useBrowser();

const DAY = 86_400_000;

/** A month of ended jobs (one outcome a day in turn) and of pull requests merged or closed, for the charts. */
async function seedMonth(): Promise<void> {
  const outcomes: Array<[JobStatus, boolean | null]> = [["completed", true], ["completed", true], ["failed", null], ["completed", false], ["completed", true], ["timed_out", null], ["cancelled", null]];
  const now = Date.now();
  for (let day = 1; day <= 28; day += 1) {
    for (let index = 0; index < 1 + (day % 3); index += 1) {
      const [status, testsPassed] = outcomes[(day + index) % outcomes.length]!;
      const finishedAt = new Date(now - day * DAY + index * 3_600_000);
      const minutes = 3 + ((day * 7 + index * 5) % 17);
      await insertJob(server.database.db, { status, testsPassed, totalCost: 0.02 + ((day * 13) % 40) / 100, createdAt: new Date(finishedAt.getTime() - minutes * 60_000 - 5_000), startedAt: new Date(finishedAt.getTime() - minutes * 60_000), finishedAt, task: `Old task ${day}.${index}` });
    }
    if (day % 2 === 0) {
      await server.database.db.insert(agentPullRequests).values({
        installationId: 4242,
        repoId: 1296269,
        repoOwner: "octo-org",
        repoName: "hello-world",
        number: 100 + day,
        url: `https://github.com/octo-org/hello-world/pull/${100 + day}`,
        requestedAt: new Date(now - (day + 2) * DAY),
        openedAt: new Date(now - (day + 1) * DAY),
        state: day % 6 === 0 ? "closed" : "merged",
        closedAt: new Date(now - day * DAY),
      });
    }
  }
}

describe("the overview", () => {
  it("lists the jobs with what each means (none as '#0', 'null' or a green success with failing checks), filters them, and marks a clicked one at once", async () => {
    const { db } = server.database;
    await insertJob(db, { status: "completed", testsPassed: null, issueNumber: 0, trigger: "local", task: "A local job", createdAt: new Date(Date.now() - 3 * 60_000) });
    await insertJob(db, { status: "completed", testsPassed: false, task: "Fix the flaky test", totalCost: 0.42, createdAt: new Date(Date.now() - 2 * 60_000) });
    const running = await insertJob(db, { status: "running", phase: "build", iterations: 2, task: "Add greet(name)\n\nWith a test.", createdAt: new Date(Date.now() - 60_000) });
    const page = await browser.open(server.url, { token: TEST_API_TOKEN });
    const rows = page.locator(".lists .row");
    await waitForText(rows, "A local job");
    expect(await rows.count()).toBe(3);
    expect(await rows.first().innerText()).toMatch(/running[\s\S]*Add greet\(name\)[\s\S]*build · round 2/);
    await waitForText(rows, /checks failing[\s\S]*Fix the flaky test/);
    const text = await page.locator("main").innerText();
    expect(text).not.toContain("#0");
    expect(text).not.toContain("null");
    expect(text).not.toContain("succeeded");

    await page.getByRole("button", { name: "Needs attention" }).click();
    await waitForText(rows, "Fix the flaky test");
    expect(await rows.count()).toBe(1);
    await page.getByRole("button", { name: "Active" }).click();
    await waitForText(rows, "Add greet(name)");
    expect(await rows.count()).toBe(1);
    await page.getByRole("button", { name: "All" }).click();
    await waitForText(rows, "A local job");

    // Marked before its page has loaded (nothing is awaited between the click and the check).
    await page.evaluate(`document.querySelector('.lists a.row[data-id="${running.id}"]').click(); window.markedAtOnce = document.querySelector('.lists a.row[data-id="${running.id}"]')?.getAttribute("aria-current")`);
    expect(await page.evaluate("window.markedAtOnce")).toBe("page");
    await page.waitForURL(`**#/jobs/${running.id}`);
    await page.locator(`.rail a.row[data-id="${running.id}"][aria-current="page"]`).waitFor();
  });

  it("draws the last 30 days: jobs by outcome, cost, durations and the merge rate", async () => {
    await seedMonth();
    const page = await browser.open(server.url, { token: TEST_API_TOKEN });
    const charts = page.locator(".charts");
    await charts.locator("svg.chart").nth(3).waitFor();
    expect(await charts.locator("figure h2").allInnerTexts()).toEqual(["Jobs per day", "Cost per day", "Job duration", "Merge rate"]);
    const jobsChart = charts.locator("figure").nth(0);
    for (const tone of ["ok", "warn", "danger", "timeout", "muted"]) expect(await jobsChart.locator(`rect.bar.tone-${tone}`).count(), tone).toBeGreaterThan(0);
    expect(await charts.locator("figure").nth(1).locator("rect.bar").count()).toBeGreaterThan(20);
    expect(await charts.locator("figure").nth(2).locator("path.line.dashed").count()).toBeGreaterThan(0);
    expect(await charts.locator("figure").nth(3).locator("path.line").count()).toBe(1);
    await waitForText(page.locator(".tiles"), "Merge rate");
    expect(await page.locator(".tile").filter({ hasText: "Pull requests" }).innerText()).toMatch(/merged/);
    await page.locator(".lists .row").first().waitFor();
    await browser.screenshot(page, "overview-1280");
  });

  it("shows each part as not available where an older server lacks its endpoint", async () => {
    const page = await browser.open(server.url, { token: TEST_API_TOKEN, answer404: ["/api/stats/daily", "/auth/session"] });
    await waitForText(page.locator(".charts .notice-unavailable"), "not available from this server");
    await page.locator(".lists .row").first().waitFor();
  });
});
