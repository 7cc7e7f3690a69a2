import type { z } from "zod";
import { parseTemplate } from "./parse-template.ts";
import { dependsOn, findCycles, graphOf, upstreamOf, type PipelineGraph } from "./pipeline-graph.ts";
import { pipelineSchema, type Pipeline, type PipelineDefinition } from "./pipeline.schema.ts";

/**
 * A problem in a pipeline definition. `path` points into the pipeline object (e.g.
 * `["steps", 1, "depends_on", 0]`), so a caller can find the YAML line it came from.
 */
export type PipelineProblem = { path: (string | number)[]; message: string };

export type ParsedPipeline = { ok: true; pipeline: Pipeline } | { ok: false; problems: PipelineProblem[] };

/**
 * A pipeline from untrusted JSON (the REST API): the schema first, then the graph rules.
 * `.github/agent.yml` goes through `parseRepoConfig`, which does both with line numbers.
 */
export function parsePipeline(value: unknown): ParsedPipeline {
  const parsed = pipelineSchema.safeParse(value);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map(problemOf) };
  const problems = validatePipeline(parsed.data);
  return problems.length === 0 ? { ok: true, pipeline: parsed.data } : { ok: false, problems };
}

/**
 * The graph and template rules a schema cannot express: unique step names, `depends_on`
 * naming steps of this pipeline (not the step itself), no cycles, and templates that are
 * well formed and only use outputs of steps upstream of the step using them (an output
 * exists only once its step has finished, and only upstream steps are sure to have).
 * Empty when the pipeline can run. Takes a definition that passed `pipelineSchema`.
 */
export function validatePipeline(definition: PipelineDefinition): PipelineProblem[] {
  const graph = graphOf(definition);
  return [...nameProblems(definition), ...dependencyProblems(definition, graph), ...cycleProblems(definition, graph), ...templateProblems(definition, graph)];
}

function nameProblems(definition: PipelineDefinition): PipelineProblem[] {
  const seen = new Set<string>();
  const problems: PipelineProblem[] = [];
  definition.steps.forEach((step, index) => {
    if (seen.has(step.name)) problems.push({ path: ["steps", index, "name"], message: `another step is already named "${step.name}": step names must be unique` });
    seen.add(step.name);
  });
  return problems;
}

function dependencyProblems(definition: PipelineDefinition, graph: PipelineGraph): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  definition.steps.forEach((step, index) => {
    dependsOn(step).forEach((dependency, position) => {
      const path = ["steps", index, "depends_on", position];
      if (dependency === step.name) problems.push({ path, message: `step "${step.name}" depends on itself` });
      else if (!graph.indexOf.has(dependency)) problems.push({ path, message: `"${dependency}" is not a step of this pipeline (steps: ${[...graph.indexOf.keys()].join(", ")})` });
    });
  });
  return problems;
}

function cycleProblems(definition: PipelineDefinition, graph: PipelineGraph): PipelineProblem[] {
  return findCycles(definition, graph).map((cycle) => ({
    path: ["steps", cycle.stepIndex, "depends_on", cycle.dependencyIndex],
    message: `the steps wait for each other in a cycle, so none of them can start: ${cycle.steps.join(" → ")}`,
  }));
}

function templateProblems(definition: PipelineDefinition, graph: PipelineGraph): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  definition.steps.forEach((step, index) => {
    const path = ["steps", index, "task"];
    const upstream = upstreamOf(graph, step.name);
    for (const part of parseTemplate(step.task)) {
      if (part.kind === "malformed") problems.push({ path, message: `malformed expression ${part.source}: ${part.reason}` });
      if (part.kind !== "output" || (part.step !== step.name && upstream.has(part.step))) continue;
      const why =
        part.step === step.name
          ? "a step cannot use its own output"
          : !graph.indexOf.has(part.step)
            ? `there is no step "${part.step}"`
            : `"${part.step}" is not upstream of "${step.name}": add it to depends_on (directly or through another step) to use its output`;
      problems.push({ path, message: `${part.source}: ${why}` });
    }
  });
  return problems;
}

function problemOf(issue: z.core.$ZodIssue): PipelineProblem {
  // An unknown key is reported on its parent; point at the key itself.
  const path = issue.code === "unrecognized_keys" && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path;
  return { path: path.map((segment) => (typeof segment === "number" ? segment : String(segment))), message: issue.message };
}
