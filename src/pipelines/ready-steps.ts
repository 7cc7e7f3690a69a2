import { graphOf, upstreamOf } from "../config/pipeline-graph.ts";
import type { PipelineDefinition, PipelineStepDefinition } from "../config/pipeline.schema.ts";
import type { RunStatus, StepState } from "../store/pipeline-runs.sql.ts";

/** Step name → state; a step with no entry is `pending` (a new run starts from `{}`). */
export type StepStates = Readonly<Partial<Record<string, StepState>>>;

/** What to do next, as data: the caller starts and cancels, then asks again. */
export type PipelineTransition = {
  /** Pending steps whose upstream steps have all finished: start them now (in parallel). */
  start: string[];
  /** Pending steps that can no longer run: mark them cancelled. */
  cancel: string[];
  /** The run's status once `cancel` is applied (and `start` started). */
  status: RunStatus;
};

/**
 * The next transition of a pipeline run, from the definition and each step's state. A
 * dependency lets its dependents run once it has `completed`, been `skipped`, or `failed`
 * with `on_failure: continue`; it blocks them when it `failed` with `stop` or was
 * `cancelled`. Cancellation is returned transitively in one go: every pending step with a
 * blocked path to it is in `cancel`, so nothing downstream of a failure is ever started in
 * the meantime and applying `cancel` needs no second round. A step starts only once
 * everything upstream of it, not just its direct dependencies, is over.
 *
 * Status: `running` while a step is running or can start; otherwise `failed` if any step
 * failed (even with `continue`: the run did not do all it was asked), else `cancelled` if
 * any step was cancelled, else `completed`. Takes a pipeline `validatePipeline` accepts;
 * throws when pending steps can never start (a cycle, a dependency on no step).
 */
export function nextTransitionOf(definition: PipelineDefinition, states: StepStates): PipelineTransition {
  const graph = graphOf(definition);
  const { indexOf } = graph;
  const stepOf = (name: string) => definition.steps[indexOf.get(name) ?? -1] as PipelineStepDefinition | undefined;
  // As written, not the graph's cleaned-up edges: a dependency on no step or on itself
  // must keep a step waiting (and make us throw below), not let it start.
  const dependenciesOf = (name: string): readonly string[] => stepOf(name)?.depends_on ?? [];
  const stateOf = (name: string): StepState => (Object.hasOwn(states, name) ? states[name] : undefined) ?? "pending";
  const stops = (name: string): boolean => stepOf(name)?.on_failure !== "continue";
  const lets = (name: string): boolean => stateOf(name) === "completed" || stateOf(name) === "skipped" || (stateOf(name) === "failed" && !stops(name));
  const blocks = (name: string): boolean => stateOf(name) === "cancelled" || (stateOf(name) === "failed" && stops(name));

  const doomed = new Map<string, boolean>();
  const isDoomed = (name: string): boolean => {
    const known = doomed.get(name);
    if (known !== undefined) return known;
    doomed.set(name, false); // a cycle comes back here: it dooms nothing by itself
    const result = stateOf(name) === "pending" && dependenciesOf(name).some((dependency) => blocks(dependency) || isDoomed(dependency));
    doomed.set(name, result);
    return result;
  };

  const names = [...indexOf.keys()];
  const pending = names.filter((name) => stateOf(name) === "pending");
  const cancel = pending.filter(isDoomed);
  const cancelled = new Set(cancel);
  const after = (name: string): StepState => (cancelled.has(name) ? "cancelled" : stateOf(name));
  // The direct dependencies decide; the whole upstream being over only matters when the
  // states were not reached by following these transitions (a step marked by hand).
  const isOver = (name: string): boolean => after(name) !== "pending" && after(name) !== "running";
  const start = pending.filter((name) => !cancelled.has(name) && dependenciesOf(name).every(lets) && [...upstreamOf(graph, name)].every(isOver));
  const waiting = names.filter((name) => after(name) === "pending");
  const active = start.length > 0 || names.some((name) => after(name) === "running");
  if (waiting.length > 0 && !active) {
    throw new Error(`pipeline steps ${waiting.join(", ")} can never start: check the pipeline with validatePipeline before running it`);
  }
  return { start, cancel, status: active ? "running" : endStatusOf(names.map(after)) };
}

/** The pending steps that can start now. */
export function readyStepsOf(definition: PipelineDefinition, states: StepStates): string[] {
  return nextTransitionOf(definition, states).start;
}

/** The status of a run whose steps have all ended. */
function endStatusOf(states: readonly StepState[]): RunStatus {
  if (states.includes("failed")) return "failed";
  if (states.includes("cancelled")) return "cancelled";
  return "completed";
}
