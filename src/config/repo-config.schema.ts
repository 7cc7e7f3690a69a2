import { z } from "zod";

const command = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .describe("a shell command line, or an argv array");

/**
 * `.github/agent.yml` on the default branch. Unknown keys are errors: a typo must not be
 * silently ignored. (Pipelines are declared here too; see DESIGN.md §4.)
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
    pipelines: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type RepoConfig = z.infer<typeof repoConfigSchema>;
