/**
 * The parts of a job's page, each drawn from the job and its log as they are now: the
 * heading with what can be done, why it failed (up front), the figures, and the work
 * itself (summary, plan, changed files). job-page.js decides when to draw them again.
 */
import { externalLink, h } from "./dom.js";
import { ago, checksOf, count, duration, firstLine, issueLabel, jobStatusOf, shortId, usd, when } from "./format.js";
import { lastFailingChecks } from "./job-activity.js";
import { badge, phaseText } from "./lists.js";

/** @typedef {import("./types.js").Job} Job */
/** @typedef {import("./types.js").LogEntry} LogEntry */
/** @typedef {import("./types.js").Plan} Plan */

/**
 * The title, status, where it comes from, and the pull request.
 * @param {Job} job
 * @param {number} now
 */
export function jobHeading(job, now) {
  const meta = [
    h("span", {}, job.repository),
    issueLabel(job) ? h("span", {}, issueLabel(job)) : null,
    job.branch ? h("span", { class: "code", title: "Branch" }, job.branch) : null,
    h("span", {}, job.requester ? `asked by ${job.requester} via ${job.trigger}` : `via ${job.trigger}`),
    h("time", { datetime: job.created_at, title: when(job.created_at) }, ago(job.created_at, now)),
    h("span", { class: "muted", title: job.id }, `job ${shortId(job.id)}`),
  ].filter(Boolean);
  return h(
    "div",
    { class: "job-title" },
    h("div", { class: "title-line" }, badge(jobStatusOf(job), "large"), h("h1", { title: firstLine(job.task) }, firstLine(job.task))),
    h("p", { class: "meta" }, meta.map((part, index) => [index ? h("span", { class: "sep", "aria-hidden": "true" }, "·") : null, part])),
  );
}

/**
 * Why the job did not deliver, or that its checks still fail: the first thing a reader of
 * a job that went wrong needs. Null for a job that went well or is still going.
 * @param {Job} job
 * @param {LogEntry[]} logs
 */
export function jobAlert(job, logs) {
  const finished = [...logs].reverse().find((entry) => entry.kind === "finished");
  if (job.status === "failed" || job.status === "timed_out") {
    const why = job.failure?.message || finished?.message || "The job ended without saying why.";
    return h(
      "div",
      { class: "alert tone-danger", role: "status" },
      h("strong", {}, job.status === "timed_out" ? "Timed out" : "Failed"),
      job.failure?.kind ? h("span", { class: "tag" }, job.failure.kind) : null,
      h("p", { class: "why" }, why),
    );
  }
  if (job.status === "cancelled") {
    return h("div", { class: "alert tone-muted", role: "status" }, h("strong", {}, "Cancelled"), h("p", { class: "why" }, job.failure?.message || finished?.message || "The job was cancelled."));
  }
  if (job.status === "completed" && job.tests_passed === false) {
    const failing = lastFailingChecks(logs);
    return h(
      "div",
      { class: "alert tone-warn", role: "status" },
      h("strong", {}, "Checks failing"),
      h("p", { class: "why" }, failing.length > 0 ? `The work was delivered, but these checks still fail: ${failing.join(", ")}.` : "The work was delivered, but the project's checks still fail."),
    );
  }
  return null;
}

/**
 * @param {Job} job
 * @param {number} now
 */
export function jobFigures(job, now) {
  const start = job.started_at ? Date.parse(job.started_at) : null;
  const end = job.finished_at ? Date.parse(job.finished_at) : now;
  const figures = [
    ["Phase", phaseText(job) || job.phase || "—"],
    ["Duration", start === null ? (job.status === "queued" ? "not started" : "—") : duration(end - start)],
    ["Cost", usd(job.total_cost)],
    ["Tokens in / out", `${count(job.total_tokens_in)} / ${count(job.total_tokens_out)}`],
    ["Checks", checksOf(job)],
    ["Rounds", job.iterations > 0 ? String(job.iterations) : "—"],
  ];
  return h("dl", { class: "figures" }, figures.map(([name, value]) => h("div", { class: "figure" }, h("dt", {}, name), h("dd", {}, value))));
}

/**
 * The agent's summary, its plan and what it changed; the API's fields when it gives them,
 * otherwise what the log says (the plan entry, the last push).
 * @param {Job} job
 * @param {LogEntry[]} logs
 */
export function jobWork(job, logs) {
  const plan = job.plan ?? planFromLog(logs);
  const changed = Array.isArray(job.changed_files) ? job.changed_files : filesFromLog(logs);
  const parts = [];
  if (job.summary) parts.push(h("section", { class: "card" }, h("h2", {}, "Summary"), h("p", { class: "prose" }, job.summary)));
  parts.push(
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Plan"),
      plan
        ? [
            plan.summary ? h("p", { class: "prose" }, plan.summary) : null,
            h(
              "ol",
              { class: "plan" },
              plan.steps.map((step) =>
                h("li", {}, h("strong", {}, step.title), step.detail ? h("p", { class: "muted" }, step.detail) : null, step.files?.length ? h("ul", { class: "files inline" }, step.files.map((file) => h("li", { class: "code" }, file))) : null),
              ),
            ),
          ]
        : h("p", { class: "muted" }, job.status === "queued" || job.status === "running" ? "No plan yet: the agent plans after exploring the repository." : "This job has no plan."),
    ),
  );
  parts.push(
    h(
      "section",
      { class: "card" },
      h("div", { class: "card-head" }, h("h2", {}, "Changes"), job.pr_url ? externalLink(job.pr_url, job.pr_number ? `Pull request #${job.pr_number} ↗` : "Pull request ↗", "button small") : null),
      changed === null
        ? h("p", { class: "muted" }, job.status === "queued" || job.status === "running" ? "Nothing pushed yet." : "No change was pushed.")
        : changed.length === 0
          ? h("p", { class: "muted" }, "The job changed no file.")
          : [h("p", { class: "muted" }, `${changed.length} file${changed.length === 1 ? "" : "s"} changed`), h("ul", { class: "files" }, changed.map((file) => h("li", { class: "code" }, file)))],
    ),
  );
  return parts;
}

/**
 * @param {LogEntry[]} logs
 * @returns {Plan | null}
 */
function planFromLog(logs) {
  const entry = [...logs].reverse().find((candidate) => candidate.kind === "plan" && candidate.data && typeof candidate.data.plan === "object");
  const plan = /** @type {any} */ (entry?.data?.plan);
  return plan && Array.isArray(plan.steps) ? plan : null;
}

/**
 * @param {LogEntry[]} logs
 * @returns {string[] | null}
 */
function filesFromLog(logs) {
  const push = [...logs].reverse().find((entry) => entry.kind === "push" && Array.isArray(entry.data?.files));
  const files = push?.data?.files;
  return Array.isArray(files) ? files.filter((file) => typeof file === "string") : null;
}
