import type { PipelineDefinition, PipelineStepDefinition } from "./pipeline.schema.ts";

/**
 * The dependency graph of a pipeline, read from its definition. Tolerant of the problems
 * `validatePipeline` reports: a repeated name counts once (its first step), a name that
 * is no step and a step naming itself are left out, and a cycle does not loop forever.
 */
export type PipelineGraph = {
  /** Step name → index of the step that owns the name (the first, if repeated). */
  indexOf: ReadonlyMap<string, number>;
  /** Step name → names it depends on directly, known steps only, self excluded. */
  dependencies: ReadonlyMap<string, readonly string[]>;
};

/** A cycle, written in run order (each step waits for the one before it), first = last. */
export type DependencyCycle = {
  steps: string[];
  /** The `depends_on` entry that closes the cycle, to point the user at. */
  stepIndex: number;
  dependencyIndex: number;
};

export function graphOf(definition: PipelineDefinition): PipelineGraph {
  const indexOf = new Map<string, number>();
  definition.steps.forEach((step, index) => {
    if (!indexOf.has(step.name)) indexOf.set(step.name, index);
  });
  const dependencies = new Map<string, readonly string[]>();
  for (const [name, index] of indexOf) {
    dependencies.set(name, dependsOn(definition.steps[index]).filter((dependency) => dependency !== name && indexOf.has(dependency)));
  }
  return { indexOf, dependencies };
}

/** What a step lists in `depends_on`, as written. */
export function dependsOn(step: PipelineStepDefinition): readonly string[] {
  return step.depends_on ?? [];
}

/** Every step `name` waits for, directly or through others. */
export function upstreamOf(graph: PipelineGraph, name: string): Set<string> {
  const upstream = new Set<string>();
  const queue = [...(graph.dependencies.get(name) ?? [])];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    if (upstream.has(next)) continue;
    upstream.add(next);
    queue.push(...(graph.dependencies.get(next) ?? []));
  }
  return upstream;
}

/**
 * One cycle per back edge of a depth-first search in declaration order: none when the
 * graph is a DAG, at least one otherwise. The edge reported is one that depends on a step
 * declared later (every cycle has one): that is usually the entry the user just added.
 */
export function findCycles(definition: PipelineDefinition, graph: PipelineGraph = graphOf(definition)): DependencyCycle[] {
  const cycles: DependencyCycle[] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    stack.push(name);
    for (const dependency of graph.dependencies.get(name) ?? []) {
      const onStack = stack.indexOf(dependency);
      if (onStack !== -1) cycles.push(cycleOf(definition, graph, stack.slice(onStack)));
      else if (!done.has(dependency)) visit(dependency);
    }
    stack.pop();
    done.add(name);
  };
  for (const name of graph.indexOf.keys()) if (!done.has(name)) visit(name);
  return cycles;
}

/** `chain` in depends-on order (each depends on the next, the last on the first). */
function cycleOf(definition: PipelineDefinition, graph: PipelineGraph, chain: string[]): DependencyCycle {
  const position = (name: string): number => graph.indexOf.get(name) ?? 0;
  const start = Math.max(0, chain.findIndex((name, i) => position(chain[(i + 1) % chain.length]) > position(name)));
  const rotated = [...chain.slice(start), ...chain.slice(0, start)];
  const [dependent, dependency] = [rotated[0], rotated[1 % rotated.length]];
  const stepIndex = position(dependent);
  const dependencyIndex = dependsOn(definition.steps[stepIndex]).indexOf(dependency);
  // Run order is the reverse of depends-on order: the dependency runs first.
  const steps = [dependency, dependent, ...rotated.slice(2).reverse(), dependency];
  return { steps, stepIndex, dependencyIndex };
}
