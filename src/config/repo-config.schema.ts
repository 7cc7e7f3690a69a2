import { z } from "zod";
import { pipelineNameSchema, pipelineSchema } from "./pipeline.schema.ts";

const command = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .describe("a shell command line, or an argv array");

/**
 * `.github/agent.yml` on the default branch. Unknown keys are errors: a typo must not be
 * silently ignored. The graph rules of pipelines (no cycles, known dependencies…) are
 * checked by `parseRepoConfig` through `validatePipeline`.
 */
export const repoConfigSchema = z
  .object({
    /** Overrides of the detected project commands; `false` turns a check off. */
    commands: z
      .object({
        install: z.union([command, z.literal(false)]).optional(),
        test: z.union([command, z.literal(false)]).optional(),
        build: z.union([command, z.literal(false)]).optional(),
        lint: z.union([command, z.literal(false)]).optional(),
        typecheck: z.union([command, z.literal(false)]).optional(),
      })
      .strict()
      .optional(),
    /**
     * What the sandbox may reach beyond the operator's allow-list (E2B): hosts such as a
     * private registry. Only hosts the operator lets repositories add (E2B_EGRESS_REPO_ALLOWED) are granted.
     */
    sandbox: z
      .object({ egress: z.array(z.string().regex(/^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, "a host name such as registry.example.com or *.example.com")).max(50).optional() })
      .strict()
      .optional(),
    /**
     * When the repository's own CI fails on a commit the agent pushed to its pull request,
     * the product starts a follow-up to fix it by itself: at most `max_rounds` per pull request.
     */
    ci: z
      .object({
        autofix: z.boolean().optional(),
        max_rounds: z.number().int().min(1, "must be at least 1 (turn the loop off with autofix: false)").max(10, "must be at most 10").optional(),
      })
      .strict()
      .optional(),
    /** Pipelines by name, started with `/agent run <name>` (DESIGN.md §4). */
    pipelines: z.record(pipelineNameSchema, pipelineSchema).optional(),
  })
  .strict();

export type RepoConfig = z.infer<typeof repoConfigSchema>;

export const CI_DEFAULTS = { autofix: true, maxRounds: 2 } as const;

/** The `ci:` block with its defaults. */
export function ciSettingsOf(config: RepoConfig): { autofix: boolean; maxRounds: number } {
  return { autofix: config.ci?.autofix ?? CI_DEFAULTS.autofix, maxRounds: config.ci?.max_rounds ?? CI_DEFAULTS.maxRounds };
}
