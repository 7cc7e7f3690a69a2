import type { ModelRequest, Script, Turn } from "../fakes/model-server.ts";
import { agentScript } from "./scripted-model.ts";

/**
 * One scripted model for every step of a pipeline run: a request is matched to its step by
 * the "Step `<name>` of the pipeline" line its prompt carries, then answered like
 * `agentScript` answers one job.
 */
export function stepScripts(byStep: Record<string, Parameters<typeof agentScript>[0]>): Script {
  const scripts = Object.fromEntries(Object.entries(byStep).map(([step, rounds]) => [step, agentScript(rounds) as (request: ModelRequest) => Turn]));
  return (request) => {
    const step = /Step `([^`]+)` of the pipeline/.exec(JSON.stringify(request.body.messages))?.[1];
    return (step && scripts[step]?.(request)) || { text: `no script for step ${step ?? "(none)"}` };
  };
}

export const writeFile = (filePath: string, content: string): Turn => ({ toolCalls: [{ name: "write", arguments: { filePath, content } }] });

/** `survey → (code ∥ docs)`: the survey's output names the function the other two add and document. */
export const SHIP_PIPELINE = {
  agentYml: [
    "pipelines:",
    "  ship:",
    "    steps:",
    "      - name: survey",
    "        task: Decide the name of the new function. End with a JSON object giving it as `name`.",
    "      - name: code",
    "        depends_on: [survey]",
    "        task: 'Add {{steps.survey.output.name}}(name) in {{inputs.file}}'",
    "      - name: docs",
    "        depends_on: [survey]",
    "        task: Document {{steps.survey.output.name}} in README.md",
  ].join("\n"),
  script: () =>
    stepScripts({
      survey: { build: [[{ text: 'The new function is farewell.\n```json\n{"name": "farewell"}\n```' }]] },
      code: { build: [[writeFile("farewell.js", "exports.farewell = (name) => `Goodbye, ${name}!`;\n"), { text: "Added farewell()." }]] },
      docs: { build: [[writeFile("README.md", "# hello\n\n`farewell(name)` says goodbye.\n"), { text: "Documented farewell()." }]] },
    }),
};
