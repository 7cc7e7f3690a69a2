import { parseRepoConfig, REPO_CONFIG_PATH } from "../config/repo-config.ts";
import { inputKeysOf } from "../config/parse-template.ts";
import type { Pipeline } from "../config/pipeline.schema.ts";

export type RunRequestCheck = { ok: true; pipeline: Pipeline; inputs: Record<string, string> } | { ok: false; reply: string };

/**
 * Whether `/agent run <pipeline> [key=value …]` can start, judged before anything runs,
 * from `.github/agent.yml` as the default branch has it (null: no such file). Pure. When
 * it cannot, the reply says why in words the requester can act on: the file's problems
 * with their lines, the pipelines there are, or the inputs missing.
 */
export function checkRunRequest(configText: string | null, request: { pipeline: string; inputs: Record<string, string> }): RunRequestCheck {
  if (configText === null) {
    return { ok: false, reply: `There is no \`${REPO_CONFIG_PATH}\` on the default branch, so there is no pipeline \`${request.pipeline}\` to run. Declare pipelines under \`pipelines:\` in that file.` };
  }
  const parsed = parseRepoConfig(configText);
  if (!parsed.ok) {
    return { ok: false, reply: [`\`${REPO_CONFIG_PATH}\` on the default branch has problems, so nothing was run:`, "", ...parsed.errors.map((error) => `- ${error}`)].join("\n") };
  }
  const pipelines = parsed.config.pipelines ?? {};
  const pipeline = Object.hasOwn(pipelines, request.pipeline) ? pipelines[request.pipeline] : undefined;
  if (!pipeline) {
    const names = Object.keys(pipelines);
    const known = names.length === 0 ? "It declares no pipelines." : `Its pipelines: ${names.map((name) => `\`${name}\``).join(", ")}.`;
    return { ok: false, reply: `\`${REPO_CONFIG_PATH}\` has no pipeline \`${request.pipeline}\`. ${known}` };
  }
  const problem = inputsProblemOf(pipeline, request.inputs);
  if (problem !== null) {
    const usage = `\`/agent run ${request.pipeline}${inputKeysOf(pipeline).map((key) => ` ${key}=…`).join("")}\``;
    return { ok: false, reply: `The pipeline \`${request.pipeline}\` was not run: ${problem}. Usage: ${usage}` };
  }
  return { ok: true, pipeline, inputs: request.inputs };
}

/** What is wrong with a run's inputs (missing or unknown keys), in words; null when they fit the pipeline. */
export function inputsProblemOf(pipeline: Pipeline, inputs: Record<string, string>): string | null {
  const needed = inputKeysOf(pipeline);
  const missing = needed.filter((key) => !Object.hasOwn(inputs, key));
  const unknown = Object.keys(inputs).filter((key) => !needed.includes(key));
  if (missing.length === 0 && unknown.length === 0) return null;
  const parts = [missing.length > 0 ? `it needs ${missing.map((key) => `\`${key}\``).join(", ")}` : "", unknown.length > 0 ? `it takes no ${unknown.map((key) => `\`${key}\``).join(", ")}` : ""];
  return parts.filter((part) => part !== "").join("; ");
}
