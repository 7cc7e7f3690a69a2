/**
 * The inputs a stored pipeline takes: the keys its steps' tasks name as `{{inputs.<key>}}`
 * (README: Pipelines), read as the server reads them (src/config/parse-template.ts), so the
 * form asks for each of them and no other. Pure.
 */

const INPUT = /\{\{[ \t]*inputs\.([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*\}\}/g;

/**
 * @param {{ steps: Array<{ task: string }> }} definition
 * @returns {string[]} sorted
 */
export function inputKeysOf(definition) {
  const keys = new Set();
  for (const step of definition.steps) {
    for (const match of step.task.matchAll(INPUT)) {
      // `\{{` writes a literal "{{".
      if (match.index > 0 && step.task[match.index - 1] === "\\") continue;
      keys.add(match[1]);
    }
  }
  return [.../** @type {Set<string>} */ (keys)].sort();
}
