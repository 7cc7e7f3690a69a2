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

/**
 * `script`, with every named step's first build request held until all of them have asked:
 * each step has then resolved its base commit, so parallel steps build on the same one
 * however slowly the machine starts them.
 */
export function buildTogether(script: Script, steps: readonly string[]): Script {
  const arrived = new Set<string>();
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return async (request) => {
    const step = /Step `([^`]+)` of the pipeline/.exec(JSON.stringify(request.body.messages))?.[1];
    if (request.agent === "build" && request.turnIndex === 0 && step !== undefined && steps.includes(step)) {
      arrived.add(step);
      if (steps.every((name) => arrived.has(name))) release();
      await all;
    }
    return typeof script === "function" ? script(request) : { text: "buildTogether needs a script function" };
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
