/**
 * The pipeline half of Start work: the repository's stored pipelines, the chosen one's
 * steps as a graph, and a field for each input its tasks name.
 */
import { api } from "./api.js";
import { dagSvg } from "./dag.js";
import { h, notice, put } from "./dom.js";
import { send } from "./form-fields.js";
import { attempt } from "./lifecycle.js";
import { inputKeysOf } from "./pipeline-inputs.js";
import { REPOSITORY_NAME } from "./repositories.js";

/** @typedef {import("./types.js").Pipeline} Pipeline */
/** @typedef {import("./form-fields.js").Fields} Fields */

/**
 * @param {Fields} field
 * @param {HTMLInputElement | HTMLSelectElement} repository
 * @param {AbortSignal} signal
 */
export function pipelinePanel(field, repository, signal) {
  const list = h("div", {});
  const chosen = h("div", {});
  const element = h("div", { class: "start-form" }, list, chosen);
  let shownFor = "";
  const refresh = () => {
    const name = repository.value.trim();
    if (name === shownFor) return;
    shownFor = name;
    put(chosen);
    if (!REPOSITORY_NAME.test(name)) {
      put(list, notice("empty", "Choose a repository first (owner/name)."));
      return;
    }
    put(list, notice("loading", "Loading the repository's pipelines…"));
    void attempt(
      signal,
      async () => {
        const answer = await api(`/api/pipelines?repository=${encodeURIComponent(name)}`, { signal });
        if (shownFor !== name) return;
        /** @type {Pipeline[]} */
        const pipelines = answer.pipelines;
        if (pipelines.length === 0) {
          put(list, notice("empty", `${name} has no stored pipeline. Store one through the API (POST /api/pipelines); see the README's "Pipelines".`));
          return;
        }
        const select = /** @type {HTMLSelectElement} */ (h("select", { id: "pipeline", name: "pipeline" }, pipelines.map((pipeline) => h("option", { value: pipeline.id }, pipeline.name))));
        const show = () => {
          field.clear();
          const pipeline = pipelines.find((candidate) => candidate.id === select.value);
          if (pipeline) put(chosen, runForm(pipeline, field, signal));
        };
        select.addEventListener("change", show);
        put(list, h("div", { class: "field" }, h("label", { for: "pipeline" }, "Pipeline"), select));
        show();
      },
      (error) => put(list, notice("error", `The pipelines could not be read: ${error.message}`)),
    );
  };
  return { element, refresh };
}

/**
 * A stored pipeline's description, its steps as a graph, and a field for each input its tasks use.
 * @param {Pipeline} pipeline
 * @param {Fields} field
 * @param {AbortSignal} signal
 */
function runForm(pipeline, field, signal) {
  const keys = inputKeysOf(pipeline.definition);
  /** @type {Map<string, HTMLInputElement>} */
  const inputs = new Map(keys.map((key) => [key, /** @type {HTMLInputElement} */ (h("input", { name: `inputs.${key}`, autocomplete: "off", spellcheck: "false", required: true }))]));
  const formError = h("div", { role: "alert" });
  const submit = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", class: "button primary" }, "Start run"));
  const preview = h("div", { class: "dag-wrap" });
  const form = h(
    "form",
    {
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        field.clear();
        put(formError);
        const missing = keys.filter((key) => !inputs.get(key)?.value.trim());
        if (missing.length > 0) return void field.show(missing.map((key) => ({ path: ["inputs", key], message: "This input is needed: the steps' tasks use it." })));
        const values = Object.fromEntries(keys.map((key) => [key, inputs.get(key)?.value ?? ""]));
        void send(submit, formError, field, signal, "Starting…", async () => {
          const run = await api(`/api/pipelines/${encodeURIComponent(pipeline.id)}/runs`, { method: "POST", body: { inputs: values }, signal });
          location.hash = `#/runs/${encodeURIComponent(run.id)}`;
        });
      },
    },
    pipeline.definition.description ? h("p", { class: "prose" }, pipeline.definition.description) : null,
    preview,
    keys.length === 0 ? h("p", { class: "muted" }, "This pipeline takes no inputs.") : keys.map((key) => field.make(`inputs.${key}`, key, /** @type {HTMLInputElement} */ (inputs.get(key)), `Its steps' tasks use it as {{inputs.${key}}}.`)),
    formError,
    h("div", { class: "form-actions" }, submit),
  );
  // Drawn once the form is on the page and has a width.
  queueMicrotask(() => put(preview, dagSvg(pipeline.definition.steps, preview.clientWidth || 600)));
  return form;
}
