import { describe, expect, it } from "vitest";
import { TEST_API_TOKEN } from "../support/api-server.ts";
import { useBrowser, waitForText } from "../support/browser.ts";
import { REPOSITORY, useDashboardServer } from "./dashboard-fixtures.ts";

const server = useDashboardServer();
const browser = useBrowser();

/** Two steps side by side, a third after both, a fourth after the third. */
const SHIP = {
  description: "Survey, then code and docs side by side",
  steps: [
    { name: "survey", task: "Decide the new function's name for {{inputs.file}}." },
    { name: "code", task: "Add it in {{inputs.file}}", depends_on: ["survey"] },
    { name: "docs", task: "Document it", depends_on: ["survey"], on_failure: "continue" },
    { name: "release-notes", task: "Write the release notes", depends_on: ["code", "docs"] },
  ],
};

async function startRun(): Promise<{ id: string; steps: Array<{ name: string; job_id: string | null }> }> {
  const stored = await server.api.call("POST", "/api/pipelines", { body: { repository: REPOSITORY, name: "ship", definition: SHIP } });
  const pipeline = (await stored.json()) as { id: string };
  const started = await server.api.call("POST", `/api/pipelines/${pipeline.id}/runs`, { body: { inputs: { file: "src/greet.js" } } });
  expect(started.status).toBe(201);
  return (await started.json()) as { id: string; steps: Array<{ name: string; job_id: string | null }> };
}

describe("a pipeline run's page", () => {
  it("draws the steps as a graph layered by what each waits for, each with its state and a link to its job, and follows the run", async () => {
    const run = await startRun();
    const page = await browser.open(`${server.url}#/runs/${run.id}`, { token: TEST_API_TOKEN });
    const graph = page.locator("svg.dag");
    await graph.waitFor();
    expect(await graph.locator("g.node").count()).toBe(4);
    expect(await graph.locator("path.edge").count()).toBe(4);
    // Left to right: survey first, code and docs side by side, release-notes last.
    const x = async (step: string) => Number(/translate\(([\d.]+),/.exec((await graph.locator(`g.node[data-step="${step}"]`).getAttribute("transform")) ?? "")?.[1]);
    expect(await x("survey")).toBeLessThan(await x("code"));
    expect(await x("code")).toBe(await x("docs"));
    expect(await x("docs")).toBeLessThan(await x("release-notes"));
    expect(await graph.locator('g.node[data-step="survey"]').getAttribute("class")).toContain("tone-active");
    expect(await graph.locator('g.node[data-step="code"]').getAttribute("class")).toContain("tone-pending");
    const survey = run.steps.find((step) => step.name === "survey")!;
    expect(await graph.locator("a.node-link").first().getAttribute("href")).toBe(`#/jobs/${survey.job_id}`);
    await waitForText(page.locator(".steps-table"), "not started");
    await browser.screenshot(page, "run-1280");

    // Read again every two seconds while it runs: a cancel elsewhere shows without a reload
    // (the steps that had not started are cancelled at once; the running one when its worker says so).
    expect((await server.api.call("POST", `/api/runs/${run.id}/cancel`)).status).toBe(202);
    await waitForText(page.locator(".job-head .badge"), "cancelling");
    await page.locator('svg.dag g.node[data-step="code"].tone-muted').waitFor();
    expect(await page.locator(".job-head").getByRole("button", { name: "Cancel run" }).count()).toBe(0);

    await graph.locator("a.node-link").first().click();
    await page.waitForURL(`**#/jobs/${survey.job_id}`);
    await waitForText(page.locator(".job-head .badge"), "cancelled");
  });

  it("cancels a running run from its page", async () => {
    const run = await startRun();
    const page = await browser.open(`${server.url}#/runs/${run.id}`, { token: TEST_API_TOKEN });
    await page.getByRole("button", { name: "Cancel run" }).click();
    await waitForText(page.locator(".job-head .badge"), "cancelling");
    const read = (await (await server.api.call("GET", `/api/runs/${run.id}`)).json()) as { cancel_requested_by: string | null; steps: Array<{ state: string }> };
    expect(read.cancel_requested_by).not.toBeNull();
    expect(read.steps.filter((step) => step.state === "cancelled")).toHaveLength(3);
  });
});
