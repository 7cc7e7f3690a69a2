/**
 * Start work (#/start): a task on a repository (optionally on an issue, from a branch), or a
 * run of one of the repository's stored pipelines with its inputs. The API checks
 * everything again; its 422 `problems` are shown next to the fields they are about.
 */
import { api } from "./api.js";
import { h, notice, put } from "./dom.js";
import { fieldMaker, send } from "./form-fields.js";
import { attempt } from "./lifecycle.js";
import { REPOSITORY_NAME, repositories } from "./repositories.js";
import { pipelinePanel } from "./start-pipeline.js";

/** @typedef {import("./types.js").Repository} Repository */
/** @typedef {import("./form-fields.js").Fields} Fields */

/**
 * @param {HTMLElement} container
 * @returns {() => void}
 */
export function mountStartWork(container) {
  const leave = new AbortController();
  const { signal } = leave;
  const body = h("div", {}, notice("loading", "Loading your repositories…"));
  put(
    container,
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Start work"), h("p", { class: "muted" }, "Ask the agent for a change: a task in your words, or a pipeline stored for the repository."))),
    h("div", { class: "start-layout" }, body, whatHappens()),
  );
  void attempt(
    signal,
    async () => {
      const known = await repositories();
      const suggestions = known === null ? await recentRepositories(signal) : [];
      put(body, startForm(known, suggestions, signal));
    },
    (error) => put(body, notice("error", `Your repositories could not be read: ${error.message}`)),
  );
  return () => leave.abort();
}

/** What starting work sets going, beside the form. */
function whatHappens() {
  return h(
    "aside",
    { class: "card help" },
    h("h2", {}, "What happens next"),
    h(
      "ol",
      {},
      h("li", {}, h("strong", {}, "Prepare and explore: "), "the agent gets a sandbox with the repository and reads the code the task is about."),
      h("li", {}, h("strong", {}, "Plan: "), "it writes down the steps and the files they touch."),
      h("li", {}, h("strong", {}, "Build ⟲ verify: "), "it makes the change and runs the project's checks, in rounds, until they pass or its rounds run out."),
      h("li", {}, h("strong", {}, "Deliver: "), "it pushes a branch and opens a pull request; on an issue, the pull request closes it."),
    ),
    h("p", { class: "muted" }, "A pipeline runs each of its steps as such a job, in the order their dependencies allow, on one branch, and opens one pull request at the end. You can follow and cancel all of it from its page."),
  );
}

/**
 * Repositories of recent jobs, offered while typing where the server cannot list them.
 * @param {AbortSignal} signal
 * @returns {Promise<string[]>}
 */
async function recentRepositories(signal) {
  const answer = await api("/api/jobs?limit=100", { signal });
  return [...new Set(answer.jobs.map((/** @type {{ repository: string }} */ job) => job.repository))].sort();
}

/**
 * @param {Repository[] | null} known
 * @param {string[]} suggestions
 * @param {AbortSignal} signal
 */
function startForm(known, suggestions, signal) {
  const writable = known?.filter((entry) => entry.can_write) ?? null;
  if (writable !== null && writable.length === 0) {
    return notice("empty", "You have write access to no repository the app is installed on, so you cannot start work here. Ask a maintainer of the repository for write access.");
  }
  const repository = /** @type {HTMLInputElement | HTMLSelectElement} */ (
    writable
      ? h("select", { id: "repository", name: "repository", required: true }, writable.map((entry) => h("option", { value: entry.repository }, entry.repository)))
      : h("input", { id: "repository", name: "repository", required: true, placeholder: "owner/name", autocomplete: "off", spellcheck: "false", list: "known-repositories" })
  );
  const field = fieldMaker();
  const repositoryField = field.make("repository", "Repository", repository, writable ? null : "The repository on GitHub, as owner/name; the app must be installed on it.");
  const kind = { value: "task" };
  const taskForm = taskPanel(field, repository, writable, signal);
  const pipelineForm = pipelinePanel(field, repository, signal);
  const tabs = h("div", { class: "segmented", role: "group", "aria-label": "What to start" });
  const drawTabs = () => {
    put(
      tabs,
      [
        ["task", "A task"],
        ["pipeline", "A pipeline"],
      ].map(([value, label]) => h("button", { type: "button", class: "segment", "aria-pressed": String(kind.value === value), onclick: () => choose(value ?? "task") }, label)),
    );
    taskForm.hidden = kind.value !== "task";
    pipelineForm.element.hidden = kind.value !== "pipeline";
  };
  const choose = (/** @type {string} */ value) => {
    kind.value = value;
    drawTabs();
    if (value === "pipeline") pipelineForm.refresh();
  };
  repository.addEventListener("change", () => {
    field.clear();
    if (kind.value === "pipeline") pipelineForm.refresh();
    taskForm.dispatchEvent(new CustomEvent("repository"));
  });
  drawTabs();
  return h(
    "section",
    { class: "card start" },
    repositoryField,
    suggestions.length > 0 ? h("datalist", { id: "known-repositories" }, suggestions.map((name) => h("option", { value: name }))) : null,
    tabs,
    taskForm,
    pipelineForm.element,
  );
}

/**
 * @param {Fields} field
 * @param {HTMLInputElement | HTMLSelectElement} repository
 * @param {Repository[] | null} writable
 * @param {AbortSignal} signal
 */
function taskPanel(field, repository, writable, signal) {
  const issue = /** @type {HTMLInputElement} */ (h("input", { name: "issue_number", inputmode: "numeric", autocomplete: "off", placeholder: "none" }));
  const base = /** @type {HTMLInputElement} */ (h("input", { name: "base", autocomplete: "off", spellcheck: "false" }));
  const task = /** @type {HTMLTextAreaElement} */ (h("textarea", { name: "task", rows: 6, required: true, placeholder: "What should change, and how will we know it works? e.g. Fix the off-by-one in paginate() and add a test for the last page." }));
  const formError = h("div", { role: "alert" });
  const submit = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", class: "button primary" }, "Start job"));
  const placeholderOfBase = () => {
    const entry = writable?.find((candidate) => candidate.repository === repository.value);
    base.placeholder = entry ? `${entry.default_branch} (the default branch)` : "the default branch";
  };
  placeholderOfBase();
  const form = h(
    "form",
    {
      class: "start-form",
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        field.clear();
        put(formError);
        /** @type {Array<{ path: string[], message: string }>} */
        const problems = [];
        const name = repository.value.trim();
        if (!REPOSITORY_NAME.test(name)) problems.push({ path: ["repository"], message: "Give the repository as owner/name." });
        if (!task.value.trim()) problems.push({ path: ["task"], message: "Say what the agent should do." });
        const issueText = issue.value.trim().replace(/^#/, "");
        if (issueText && !/^[1-9]\d{0,9}$/.test(issueText)) problems.push({ path: ["issue_number"], message: "An issue number is a whole number, like 42." });
        if (problems.length > 0) return void field.show(problems);
        const request = { repository: name, task: task.value, ...(issueText ? { issue_number: Number(issueText) } : {}), ...(base.value.trim() ? { base: base.value.trim() } : {}) };
        void send(submit, formError, field, signal, "Starting…", async () => {
          const job = await api("/api/jobs", { method: "POST", body: request, signal });
          location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
        });
      },
    },
    h("div", { class: "field-row" }, field.make("issue_number", "Issue (optional)", issue, "The job reports on the issue, and its pull request closes it."), field.make("base", "Base branch (optional)", base, "The branch to build on and open the pull request against.")),
    field.make("task", "Task", task, null),
    formError,
    h("div", { class: "form-actions" }, submit),
  );
  form.addEventListener("repository", placeholderOfBase);
  return form;
}
