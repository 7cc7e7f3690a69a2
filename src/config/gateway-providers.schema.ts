import { z } from "zod";

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
      /** US dollars per million tokens; without it the gateway counts requests but charges nothing. */
      pricing: z.object({ inputPerMillion: z.number().nonnegative(), outputPerMillion: z.number().nonnegative() }).strict().optional(),
    })
    .strict(),
);

export type GatewayProviders = z.infer<typeof gatewayProvidersSchema>;

/** The version segment of a provider's baseURL in the opencode config. */
export function versionOf(provider: GatewayProviders[string]): string {
  return provider.version ?? (provider.kind === "google" ? "v1beta" : "v1");
}
