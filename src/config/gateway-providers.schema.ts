import { z } from "zod";

/** US dollars per million tokens, as providers publish them. */
const pricingSchema = z.object({ inputPerMillion: z.number().nonnegative(), outputPerMillion: z.number().nonnegative() }).strict();

const modelSchema = z
  .object({
    /** This model's price; default: the provider's `pricing`. A model with neither is free (a self-hosted one). */
    pricing: pricingSchema.optional(),
    /** The most tokens the model writes in one answer (its documented output limit); the gateway never asks for more. Default 32,000. */
    maxOutputTokens: z.number().int().positive().optional(),
  })
  .strict();

/**
 * `AGENT_GATEWAY_PROVIDERS`: the model providers the gateway forwards to, by the name the
 * opencode config uses for them (`google`, `anthropic`, `openai`, or a custom one). Their
 * real keys stay in the app; sandboxes get a per-job token instead.
 */
export const gatewayProvidersSchema = z.record(
  z.string().regex(/^[A-Za-z0-9_-]+$/, "provider names are letters, digits, - and _"),
  z
    .object({
      /** The provider's URL without its API version, e.g. https://generativelanguage.googleapis.com. */
      baseUrl: z.url(),
      apiKey: z.string().min(1),
      kind: z.enum(["openai", "anthropic", "google"]),
      /** The version segment the provider's SDK puts after its baseURL: v1beta for Google, v1 otherwise. */
      version: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
      /** The default price of the models below that name none. */
      pricing: pricingSchema.optional(),
      /**
       * The models a job may use, by the id its requests name (`gpt-5`, `claude-sonnet-4-5`,
       * `gemini-2.5-pro`): any other is refused, or the agent could switch to a dearer model
       * than the one priced.
       */
      models: z
        .record(z.string().regex(/^\S+$/, "model ids have no spaces"), modelSchema, {
          error: 'list the models a job may use, e.g. "models": {"gpt-5": {}} (each may have its own "pricing")',
        })
        .refine((models) => Object.keys(models).length > 0, 'list at least one model, e.g. "models": {"gpt-5": {}}'),
    })
    .strict(),
);

export type GatewayProviders = z.infer<typeof gatewayProvidersSchema>;

/** The version segment of a provider's baseURL in the opencode config. */
export function versionOf(provider: GatewayProviders[string]): string {
  return provider.version ?? (provider.kind === "google" ? "v1beta" : "v1");
}
