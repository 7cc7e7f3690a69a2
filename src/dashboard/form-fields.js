/**
 * A form's fields and how it is sent: each field with its label, hint and error message,
 * which the API's 422 `problems` fill by their paths; the button busy while the request
 * is out; what no field shows, above the button.
 */
import { ApiError } from "./api.js";
import { h, put } from "./dom.js";
import { attempt } from "./lifecycle.js";

/** @typedef {ReturnType<typeof fieldMaker>} Fields */

/**
 * Labelled fields whose error messages the API's problems fill.
 */
export function fieldMaker() {
  /** @type {Map<string, { control: HTMLElement, error: HTMLElement }>} */
  const fields = new Map();
  return {
    /**
     * @param {string} name the API's field name (`task`, `issue_number`, `inputs.file`)
     * @param {string} label
     * @param {HTMLElement} control
     * @param {string | null} hint
     */
    make(name, label, control, hint) {
      const id = control.id || `field-${name.replace(/\W/g, "-")}`;
      control.id = id;
      const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
      control.setAttribute("aria-describedby", `${id}-error`);
      // A problem is answered by changing the field: its message goes with the first keystroke.
      control.addEventListener("input", () => {
        error.hidden = true;
        put(error);
        control.removeAttribute("aria-invalid");
      });
      fields.set(name, { control, error });
      return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint" }, hint) : null, error);
    },
    clear() {
      for (const { control, error } of fields.values()) {
        error.hidden = true;
        put(error);
        control.removeAttribute("aria-invalid");
      }
    },
    /**
     * Show each problem by its field; what no field shows is returned.
     * @param {Array<{ path: Array<string | number>, message: string }>} problems
     * @returns {string[]}
     */
    show(problems) {
      const unplaced = [];
      for (const problem of problems) {
        const path = problem.path.map(String);
        const target = fields.get(path.join(".")) ?? fields.get(path[0] ?? "");
        if (!target) {
          unplaced.push(path.length > 0 ? `${path.join(".")}: ${problem.message}` : problem.message);
          continue;
        }
        target.error.hidden = false;
        target.error.append(h("span", {}, problem.message));
        target.control.setAttribute("aria-invalid", "true");
      }
      return unplaced;
    },
  };
}

/**
 * Send a form: its button says it is busy; the API's problems go to their fields, the rest above the button.
 * @param {HTMLButtonElement} button
 * @param {HTMLElement} formError
 * @param {Fields} field
 * @param {AbortSignal} signal
 * @param {string} busyLabel
 * @param {() => Promise<void>} work
 */
export async function send(button, formError, field, signal, busyLabel, work) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = busyLabel;
  await attempt(
    signal,
    async () => {
      try {
        await work();
      } finally {
        button.disabled = false;
        button.textContent = label;
      }
    },
    (error) => {
      const unplaced = error instanceof ApiError && error.problems.length > 0 ? field.show(error.problems) : [error.message];
      if (unplaced.length > 0) put(formError, h("div", { class: "alert tone-danger" }, h("strong", {}, error.status === 403 ? "Not allowed" : "Not started"), unplaced.map((text) => h("p", { class: "why" }, text))));
    },
  );
}
