/**
 * A job's page (#/jobs/<id>): the job as it is, followed live through its event stream
 * until it ends (and again after a retry); every part is drawn again from what the stream
 * says, so nothing stays frozen at the state the page opened with. Longer than most files
 * here: one closure holds the page's state with everything that changes it (the stream, the
 * buttons, the clock), so each can draw again exactly the parts it changed.
 */
import { api } from "./api.js";
import { h, notice, put } from "./dom.js";
import { isActive, isRetryable } from "./format.js";
import { activityCounts, activityItem } from "./job-activity.js";
import { phasesOf, phaseTable, phaseTimeline } from "./job-phases.js";
import { jobAlert, jobFigures, jobHeading, jobWork } from "./job-sections.js";
import { followJobEvents } from "./job-stream.js";
import { attempt, every } from "./lifecycle.js";
import { mountRail } from "./rail.js";
import { canWrite, repositories } from "./repositories.js";

/** @typedef {import("./types.js").Job} Job */
/** @typedef {import("./types.js").LogEntry} LogEntry */

/** How often the durations of a running job move on. */
const TICK_MS = 1_000;
/** Entries that change the job's phases. */
const PHASE_KINDS = ["phase", "finished", "requeued"];
/** A burst of log entries (a phase's end and the next one's start) is read as one. */
const REFRESH_DELAY_MS = 300;

/**
 * @param {HTMLElement} container
 * @param {string} id
 * @returns {() => void}
 */
export function mountJobPage(container, id) {
  const leave = new AbortController();
  const { signal } = leave;
  const detail = h("div", { class: "detail" }, notice("loading", "Loading the job…"));
  const rail = mountRail("jobs", id, signal);
  put(container, h("div", { class: "with-rail" }, rail.element, detail));

  const parts = {
    heading: h("div", {}),
    actions: h("div", { class: "actions" }),
    alert: h("div", {}),
    figures: h("div", {}),
    phases: h("div", { class: "phases" }),
    work: h("div", { class: "work" }),
    counts: h("p", { class: "muted" }),
    activity: h("ol", { class: "activity" }),
  };
  /** @type {{ job: Job | null, logs: LogEntry[], writable: boolean, following: boolean, busy: boolean, note: { tone: string, text: string } | null }} */
  const state = { job: null, logs: [], writable: false, following: false, busy: false, note: null };

  const drawPhases = () => {
    const job = state.job;
    if (!job) return;
    const phases = phasesOf(job, state.logs);
    if (phases.length === 0) {
      put(parts.phases, notice("empty", job.status === "queued" ? "Waiting for a worker: no phase has started yet." : "No phase was recorded for this job."));
      return;
    }
    const width = parts.phases.clientWidth || 600;
    put(parts.phases, phaseTimeline(phases, width, Date.now()), phaseTable(phases, job, Date.now()));
  };
  const drawActions = () => {
    const job = state.job;
    if (!job) return;
    const buttons = [];
    const stopping = isActive(job) && Boolean(job.cancel_requested_at);
    if (state.writable && isActive(job) && !stopping) buttons.push(h("button", { type: "button", class: "button danger", disabled: state.busy, onclick: () => act("cancel") }, "Cancel job"));
    if (stopping) buttons.push(h("span", { class: "action-note tone-muted", role: "status" }, `Stopping: cancelled by ${job.cancel_requested_by ?? "someone"}; its worker ends it within seconds.`));
    if (state.writable && isRetryable(job)) buttons.push(h("button", { type: "button", class: "button primary", disabled: state.busy, onclick: () => act("retry") }, "Retry"));
    if (!state.writable) buttons.push(h("span", { class: "muted small" }, "You can read this job; starting or stopping it needs write access to its repository."));
    put(parts.actions, buttons, state.note ? h("span", { class: `action-note tone-${state.note.tone}`, role: state.note.tone === "danger" ? "alert" : "status" }, state.note.text) : null);
  };
  const drawJob = () => {
    const job = state.job;
    if (!job) return;
    const now = Date.now();
    put(parts.heading, jobHeading(job, now));
    put(parts.alert, jobAlert(job, state.logs));
    put(parts.figures, jobFigures(job, now));
    put(parts.work, jobWork(job, state.logs));
    drawActions();
    drawPhases();
  };
  const drawCounts = () => {
    const counted = activityCounts(state.logs);
    put(parts.counts, `${counted.edits} file edit${counted.edits === 1 ? "" : "s"} · ${counted.commands} command${counted.commands === 1 ? "" : "s"} · checks: ${counted.passed} passed, ${counted.failed} failed`);
  };
  const drawActivity = () => {
    put(parts.activity, state.logs.map(activityItem));
    if (state.logs.length === 0) put(parts.activity, h("li", { class: "muted" }, "Nothing logged yet."));
    drawCounts();
  };

  /** The whole job again (`phases`, the plan, the changed files): at the start, when it ends, after an action. */
  const load = async () => {
    const [job, known] = await Promise.all([api(`/api/jobs/${encodeURIComponent(id)}`, { signal }), repositories()]);
    state.job = job;
    state.logs = Array.isArray(job.logs) ? job.logs : [];
    state.writable = canWrite(known, job.repository);
    if (!detail.contains(parts.heading)) layOut();
    drawJob();
    drawActivity();
    if (isActive(job)) follow();
  };
  const layOut = () => {
    put(
      detail,
      h("nav", { class: "crumbs" }, h("a", { href: "#/" }, "← Overview")),
      h("header", { class: "job-head" }, parts.heading, parts.actions),
      parts.alert,
      parts.figures,
      h("section", { class: "card" }, h("h2", {}, "Phases"), parts.phases),
      parts.work,
      h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", {}, "What the agent did"), parts.counts), parts.activity),
    );
  };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let refreshTimer;
  /** The job's details again (its phases with their usage), once a burst of entries is over. */
  const refreshSoon = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void attempt(signal, refreshDetail, showError), REFRESH_DELAY_MS);
  };
  const refreshDetail = async () => {
    const { logs: _logs, ...job } = await api(`/api/jobs/${encodeURIComponent(id)}`, { signal });
    state.job = { ...state.job, ...job };
    drawJob();
  };
  signal.addEventListener("abort", () => clearTimeout(refreshTimer));
  const follow = () => {
    if (state.following || !state.job) return;
    state.following = true;
    const lastEventId = state.logs.reduce((last, entry) => Math.max(last, entry.id), 0);
    void followJobEvents(id, {
      lastEventId,
      signal,
      onLog: (entry) => {
        if (state.logs.length > 0 && entry.id <= (state.logs.at(-1)?.id ?? 0)) return;
        if (state.logs.length === 0) put(parts.activity);
        state.logs.push(entry);
        parts.activity.append(activityItem(entry));
        drawCounts();
        if (PHASE_KINDS.includes(entry.kind) && state.job) {
          // The API's phases are as they were when last read: until it is read again, the log says.
          state.job = { ...state.job, phases: undefined };
          refreshSoon();
        }
        if ([...PHASE_KINDS, "plan", "push", "check", "round"].includes(entry.kind)) drawJob();
      },
      onJob: (job) => {
        const before = state.job?.status;
        state.job = { ...state.job, ...job };
        if (before !== job.status) void rail.refresh();
        if (!isActive(job)) state.note = null;
        drawJob();
      },
      // The stream's job has no log; the API's has what an ended job adds (its phases, its changes).
      onEnd: () => {
        state.following = false;
        void attempt(signal, load, showError);
      },
      onError: (error) => {
        state.following = false;
        showError(error);
      },
    });
  };
  /** @param {import("./api.js").ApiError} error */
  const showError = (error) => {
    if (!state.job) {
      put(detail, h("nav", { class: "crumbs" }, h("a", { href: "#/" }, "← Overview")), notice("error", error.status === 404 ? "There is no job with that id." : `The job could not be read: ${error.message}`));
      return;
    }
    state.note = { tone: "danger", text: error.message };
    drawActions();
  };
  /** @param {"cancel" | "retry"} action */
  const act = (action) => {
    state.busy = true;
    state.note = null;
    drawActions();
    void attempt(
      signal,
      async () => {
        try {
          const job = await api(`/api/jobs/${encodeURIComponent(id)}/${action}`, { method: "POST", signal });
          state.job = { ...state.job, ...job };
          state.note = null;
        } finally {
          state.busy = false;
        }
        drawJob();
        void rail.refresh();
        if (isActive(/** @type {Job} */ (state.job))) follow();
      },
      (error) => {
        state.note = { tone: "danger", text: error.message };
        drawActions();
      },
    );
  };

  void attempt(signal, load, showError);
  // A running job's durations move on without a new event.
  every(TICK_MS, signal, async () => {
    if (state.job && state.job.status === "running") {
      put(parts.figures, jobFigures(state.job, Date.now()));
      drawPhases();
    }
  });
  let drawnWidth = 0;
  const resize = new ResizeObserver(() => {
    if (parts.phases.clientWidth === drawnWidth) return;
    drawnWidth = parts.phases.clientWidth;
    drawPhases();
  });
  resize.observe(parts.phases);
  signal.addEventListener("abort", () => resize.disconnect());
  return () => leave.abort();
}
