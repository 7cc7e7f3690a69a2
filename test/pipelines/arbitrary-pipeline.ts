import fc from "fast-check";
import type { PipelineDefinition } from "../../src/config/pipeline.schema.ts";

/**
 * Random pipelines that are DAGs by construction: step i only depends on steps generated
 * before it, and only uses outputs of steps upstream of it; then the steps are shuffled,
 * so declaration order says nothing about run order.
 */
export type GeneratedPipeline = {
  definition: PipelineDefinition;
  /** Step name → every step upstream of it. */
  upstream: Map<string, Set<string>>;
};

export const nameOf = (index: number): string => `step-${index}`;

export function arbitraryPipeline({ maxSteps = 12 }: { maxSteps?: number } = {}): fc.Arbitrary<GeneratedPipeline> {
  return fc.integer({ min: 1, max: maxSteps }).chain((count) => {
    const indices = Array.from({ length: count }, (_, index) => index);
    const step = (index: number) =>
      fc.record({
        dependsOn: fc.subarray(indices.slice(0, index)),
        references: fc.subarray(indices.slice(0, index)),
        onFailure: fc.constantFrom("stop", "continue", undefined),
        input: fc.option(fc.constantFrom("target", "branch", "a.b"), { nil: undefined }),
      });
    return fc.tuple(fc.tuple(...indices.map(step)), fc.shuffledSubarray(indices, { minLength: count, maxLength: count })).map(([steps, order]) => {
      const upstream = new Map<string, Set<string>>();
      steps.forEach((generated, index) => {
        const all = new Set(generated.dependsOn.map(nameOf));
        for (const dependency of generated.dependsOn) for (const name of upstream.get(nameOf(dependency)) ?? []) all.add(name);
        upstream.set(nameOf(index), all);
      });
      const definition: PipelineDefinition = {
        steps: order.map((index) => {
          const generated = steps[index];
          const references = generated.references.map(nameOf).filter((name) => upstream.get(nameOf(index))?.has(name));
          const task = [`Do part ${index}`, ...references.map((name) => `use {{ steps.${name}.output.result }}`), ...(generated.input ? [`for {{inputs.${generated.input}}}`] : [])].join(" ");
          return {
            name: nameOf(index),
            task,
            ...(generated.dependsOn.length > 0 ? { depends_on: generated.dependsOn.map(nameOf) } : {}),
            ...(generated.onFailure ? { on_failure: generated.onFailure } : {}),
          };
        }),
      };
      return { definition, upstream };
    });
  });
}
