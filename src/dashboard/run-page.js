/**
 * A pipeline run's page (#/runs/<id>): its steps as a graph with each one's state, read
 * again every two seconds while the run goes on, each step linking to its job.
 */
import { api } from "./api.js";
import { dagSvg } from "./dag.js";
import { externalLink, h, notice, put } from "./dom.js";
import { ago, issueLabel, jobStatusOf, runStateOf, shortId, usd, when } from "./format.js";
import { attempt, every } from "./lifecycle.js";
import { badge } from "./lists.js";
import { mountRail } from "./rail.js";
import { canWrite, repositories } from "./repositories.js";

/** @typedef {import("./types.js").Run} Run */
/** @typedef {import("./types.js").RunStep} RunStep */

const REFRESH_MS = 2_000;

/**
 * @param {HTMLElement} container
 * @param {string} id
 * @returns {() => void}
 */
export function mountRunPage(container, id) {
  const leave = new AbortController();
  const { signal } = leave;
  const detail = h("div", { class: "detail" }, notice("loading", "Loading the run…"));
  put(container, h("div", { class: "with-rail" }, mountRail("runs", id, signal).element, detail));
  const parts = { head: h("header", { class: "job-head" }), graph: h("div", { class: "dag-wrap" }), steps: h("div", {}), note: h("span", { class: "action-note" }) };
  /** @type {{ run: Run | null, writable: boolean, busy: boolean }} */
  const state = { run: null, writable: false, busy: false };

  const drawGraph = () => {
    if (state.run) put(parts.graph, dagSvg(state.run.steps, parts.graph.clientWidth || 600));
  };
  const draw = () => {
    const run = state.run;
    if (!run) return;
    const now = Date.now();
    const done = run.steps.filter((step) => step.state === "completed").length;
    // Its running steps end within seconds; the run ends cancelled once they have.
    const cancelling = run.status === "running" && Boolean(run.cancel_requested_by);
    const meta = [run.repository, issueLabel(run), run.branch, run.requester ? `asked by ${run.requester}` : "", `run ${shortId(run.id)}`].filter(Boolean);
    put(
      parts.head,
      h(
        "div",
        { class: "job-title" },
        h("div", { class: "title-line" }, badge(cancelling ? { label: "cancelling", tone: "muted" } : runStateOf(run.status), "large"), h("h1", {}, run.pipeline)),
        h("p", { class: "meta" }, meta.map((part, index) => [index ? h("span", { class: "sep", "aria-hidden": "true" }, "·") : null, h("span", {}, part)]), h("span", { class: "sep", "aria-hidden": "true" }, "·"), h("time", { datetime: run.created_at, title: when(run.created_at) }, ago(run.created_at, now))),
      ),
      h(
        "div",
        { class: "actions" },
        cancelling ? h("span", { class: "action-note tone-muted" }, `Cancel requested by ${run.cancel_requested_by}: its running steps stop within seconds.`) : null,
        state.writable && run.status === "running" && !cancelling ? h("button", { type: "button", class: "button danger", disabled: state.busy, onclick: cancel }, "Cancel run") : null,
        run.pr_url ? externalLink(run.pr_url, run.pr_number ? `Pull request #${run.pr_number} ↗` : "Pull request ↗", "button") : null,
        parts.note,
      ),
      h(
        "dl",
        { class: "figures" },
        figure("Steps done", `${done} of ${run.steps.length}`),
        figure("Cost", usd(run.total_cost)),
        figure("Inputs", Object.keys(run.inputs ?? {}).length === 0 ? "none" : Object.entries(run.inputs).map(([key, value]) => `${key}=${value}`).join(", ")),
      ),
    );
    drawGraph();
    put(parts.steps, stepsTable(run.steps));
  };
  const load = async () => {
    const [run, known] = await Promise.all([api(`/api/runs/${encodeURIComponent(id)}`, { signal }), repositories()]);
    const first = state.run === null;
    state.run = run;
    state.writable = canWrite(known, run.repository);
    if (first) {
      put(
        detail,
        h("nav", { class: "crumbs" }, h("a", { href: "#/" }, "← Overview")),
        parts.head,
        h("section", { class: "card" }, h("h2", {}, "Steps"), parts.graph),
        h("section", { class: "card" }, h("h2", {}, "Each step"), parts.steps),
      );
    }
    draw();
  };
  /** @param {import("./api.js").ApiError} error */
  const showError = (error) => {
    if (state.run) put(parts.note, h("span", { class: "tone-danger", role: "alert" }, error.message));
    else put(detail, h("nav", { class: "crumbs" }, h("a", { href: "#/" }, "← Overview")), notice("error", error.status === 404 ? "There is no run with that id." : `The run could not be read: ${error.message}`));
  };
  const cancel = () => {
    state.busy = true;
    draw();
    void attempt(
      signal,
      async () => {
        try {
          state.run = await api(`/api/runs/${encodeURIComponent(id)}/cancel`, { method: "POST", signal });
        } finally {
          state.busy = false;
        }
        draw();
      },
      (error) => {
        draw();
        showError(error);
      },
    );
  };

  every(REFRESH_MS, signal, async () => {
    // An ended run does not change: read it once more after it ends, then stop.
    if (state.run && state.run.status !== "running") return;
    await attempt(signal, load, showError);
  });
  let drawnWidth = 0;
  const resize = new ResizeObserver(() => {
    if (parts.graph.clientWidth === drawnWidth) return;
    drawnWidth = parts.graph.clientWidth;
    drawGraph();
  });
  resize.observe(parts.graph);
  signal.addEventListener("abort", () => resize.disconnect());
  return () => leave.abort();
}

/** @param {string} name @param {string} value */
function figure(name, value) {
  return h("div", { class: "figure" }, h("dt", {}, name), h("dd", {}, value));
}

/** @param {RunStep[]} steps */
function stepsTable(steps) {
  return h(
    "table",
    { class: "table stack-table steps-table" },
    h("thead", {}, h("tr", {}, h("th", {}, "Step"), h("th", {}, "State"), h("th", {}, "Job"), h("th", { class: "num" }, "Cost"), h("th", {}, "Result"))),
    h(
      "tbody",
      {},
      steps.map((step) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, step.name, step.depends_on.length > 0 ? h("span", { class: "muted small block" }, `after ${step.depends_on.join(", ")}`) : null),
          h("td", {}, badge(runStateOf(step.state))),
          h("td", { "data-label": "job" }, step.job_id && step.job ? h("a", { href: `#/jobs/${encodeURIComponent(step.job_id)}` }, `${jobStatusOf(step.job).label}${step.job.phase && step.job.status === "running" ? ` · ${step.job.phase}` : ""}`) : h("span", { class: "muted" }, "not started")),
          h("td", { class: "num", "data-label": "cost" }, step.job ? usd(step.job.total_cost) : "—"),
          h("td", { class: "result" }, step.error ? h("span", { class: "tone-danger" }, step.error) : step.job?.failure?.message ? h("span", { class: "tone-danger" }, step.job.failure.message) : step.output !== null && step.output !== undefined ? h("span", { class: "code" }, JSON.stringify(step.output)) : ""),
        ),
      ),
    ),
  );
}
