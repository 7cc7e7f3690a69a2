import { desc } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { jobs } from "../../src/store/jobs.sql.ts";
import { TEST_API_TOKEN } from "../support/api-server.ts";
import { useBrowser, waitForText } from "../support/browser.ts";
import { REPOSITORY, useDashboardServer } from "./dashboard-fixtures.ts";

const server = useDashboardServer();
const browser = useBrowser();

describe("start work", () => {
  it("starts a task on a repository the caller may write to, showing the API's refusals by their fields first", async () => {
    const page = await browser.open(`${server.url}#/start`, { token: TEST_API_TOKEN });
    const repository = page.locator("select#repository");
    await repository.waitFor();
    expect(await repository.locator("option").allInnerTexts()).toEqual([REPOSITORY]);

    // Checked in the page first: nothing is sent without a task.
    await page.getByRole("button", { name: "Start job" }).click();
    await waitForText(page.locator(".field-error"), "Say what the agent should do.");

    // Checked by the API: its 422 problems go next to their fields, its other refusals above the button.
    await page.getByLabel("Task").fill("Add greet(name) to src/greet.js, with a test");
    await page.getByLabel("Base branch (optional)").fill("a b");
    await page.getByRole("button", { name: "Start job" }).click();
    await waitForText(page.locator("#field-base-error"), "a branch name");
    expect(await page.getByLabel("Base branch (optional)").getAttribute("aria-invalid")).toBe("true");
    await page.getByLabel("Base branch (optional)").fill("develop");
    await page.getByRole("button", { name: "Start job" }).click();
    await waitForText(page.locator(".start-form .alert"), `${REPOSITORY} has no branch develop`);
    expect(await page.locator("#field-base-error").isVisible()).toBe(false);
    await browser.screenshot(page, "start-refused-1280");

    await page.getByLabel("Base branch (optional)").fill("release/1.x");
    await page.getByLabel("Issue (optional)").fill("#7");
    await page.getByRole("button", { name: "Start job" }).click();
    await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    const [job] = await server.database.db.select().from(jobs).orderBy(desc(jobs.createdAt)).limit(1);
    expect(job).toMatchObject({ issueNumber: 7, defaultBranch: "release/1.x", task: "Add greet(name) to src/greet.js, with a test", trigger: "api" });
    expect(page.url()).toContain(job!.id);
    await waitForText(page.locator(".job-head .badge"), "queued");
    await waitForText(page.locator(".job-head .meta"), "#7");
  });

  it("lets the token's holder type owner/name where the server cannot list repositories", async () => {
    const page = await browser.open(`${server.url}#/start`, { token: TEST_API_TOKEN, answer404: ["/api/repositories"] });
    const repository = page.locator("input#repository");
    await repository.waitFor();
    await repository.fill("octo-org/not-installed");
    await page.getByLabel("Task").fill("Fix the typo in README");
    await page.getByRole("button", { name: "Start job" }).click();
    await waitForText(page.locator(".start-form .alert"), "not installed on octo-org/not-installed");
    await repository.fill(REPOSITORY);
    await page.getByRole("button", { name: "Start job" }).click();
    await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    await waitForText(page.locator(".job-head .meta"), REPOSITORY);
  });

  it("starts a run of a stored pipeline with the inputs its tasks name", async () => {
    const definition = {
      description: "Lint and document, then report",
      steps: [
        { name: "lint", task: "Lint {{inputs.target}}" },
        { name: "docs", task: "Document {{ inputs.target }} for {{inputs.audience}}" },
        { name: "report", task: "Summarize", depends_on: ["lint", "docs"] },
      ],
    };
    expect((await server.api.call("POST", "/api/pipelines", { body: { repository: REPOSITORY, name: "review", definition } })).status).toBe(201);
    const page = await browser.open(`${server.url}#/start`, { token: TEST_API_TOKEN });
    await page.getByRole("button", { name: "A pipeline" }).click();
    await page.locator("select#pipeline").waitFor();
    await page.locator(".start-form svg.dag").waitFor();
    expect(await page.locator(".start-form svg.dag g.node").count()).toBe(3);
    await page.getByRole("button", { name: "Start run" }).click();
    await waitForText(page.locator("#field-inputs-audience-error"), "This input is needed");
    await page.getByLabel("target").fill("src/");
    await page.getByLabel("audience").fill("new contributors");
    await browser.screenshot(page, "start-pipeline-1280");
    await page.getByRole("button", { name: "Start run" }).click();
    await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
    await page.locator("svg.dag").waitFor();
    await waitForText(page.locator(".figures"), "audience=new contributors");
  });
});
