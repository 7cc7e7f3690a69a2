import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { envSchema, type Env } from "./env.schema.ts";
import { gatewayProvidersSchema, type GatewayProviders } from "./gateway-providers.schema.ts";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface Config {
  env: Env;
  /** The GitHub App credentials, or null when the app should serve the setup page. */
  app: { appId: number; privateKey: string; webhookSecret: string } | null;
  /** Base URL of GitHub's REST API (github.com or GHE). */
  githubApiUrl: string;
  dataDir: string;
  opencodeExtraConfig: Record<string, unknown>;
  /** The model gateway's providers; null when the gateway is off. */
  gatewayProviders: GatewayProviders | null;
  /** Signing people in to the dashboard with GitHub; null when it is not set up. */
  signIn: { clientId: string; clientSecret: string; sessionSecret: string; webUrl: string; publicUrl: string | undefined } | null;
}

/**
 * Validate the environment once, at start. Errors name the variables and what is wrong
 * with them, never their values (they may be secrets).
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const env = parsed.data;
  const app = readAppCredentials(env);
  return {
    env,
    app,
    githubApiUrl: env.GHE_HOST ? `${env.GHE_PROTOCOL}://${env.GHE_HOST}/api/v3` : "https://api.github.com",
    dataDir: path.resolve(env.DATA_DIR),
    opencodeExtraConfig: parseOpencodeConfig(env.AGENT_OPENCODE_CONFIG),
    gatewayProviders: parseGatewayProviders(env),
    signIn: readSignIn(env, app),
  };
}

function readSignIn(env: Env, app: Config["app"]): Config["signIn"] {
  if (env.GITHUB_CLIENT_ID === undefined && env.GITHUB_CLIENT_SECRET === undefined) return null;
  if (env.GITHUB_CLIENT_ID === undefined || env.GITHUB_CLIENT_SECRET === undefined) {
    throw new ConfigError("GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET go together: set both (the GitHub App's settings page shows them) for people to sign in to the dashboard, or neither.");
  }
  const sessionSecret = env.SESSION_SECRET ?? (app ? `derived from the private key:${app.privateKey}` : undefined);
  if (sessionSecret === undefined) throw new ConfigError("Signing in with GitHub needs SESSION_SECRET, or the GitHub App's credentials to derive it from.");
  return {
    clientId: env.GITHUB_CLIENT_ID,
    clientSecret: env.GITHUB_CLIENT_SECRET,
    sessionSecret,
    webUrl: env.GHE_HOST ? `${env.GHE_PROTOCOL}://${env.GHE_HOST}` : "https://github.com",
    publicUrl: env.PUBLIC_URL,
  };
}

function parseGatewayProviders(env: Env): GatewayProviders | null {
  if (env.AGENT_GATEWAY_PROVIDERS === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(env.AGENT_GATEWAY_PROVIDERS);
  } catch {
    throw new ConfigError("AGENT_GATEWAY_PROVIDERS: not valid JSON.");
  }
  const parsed = gatewayProvidersSchema.safeParse(value);
  if (!parsed.success) {
    // Paths and messages only: the values hold API keys.
    const lines = parsed.error.issues.map((issue) => `  AGENT_GATEWAY_PROVIDERS.${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  if (env.ROLE === "worker" && env.AGENT_GATEWAY_URL === undefined) {
    throw new ConfigError("AGENT_GATEWAY_URL is required with AGENT_GATEWAY_PROVIDERS and ROLE=worker: a worker serves no HTTP, so its sandboxes must reach the gateway of a web process.");
  }
  return parsed.data;
}

function readAppCredentials(env: Env): Config["app"] {
  if (env.APP_ID === undefined) return null;
  const privateKey = readPrivateKey(env);
  if (!env.WEBHOOK_SECRET) {
    throw new ConfigError("WEBHOOK_SECRET is required when APP_ID is set: GitHub signs every delivery with it.");
  }
  return { appId: env.APP_ID, privateKey, webhookSecret: env.WEBHOOK_SECRET };
}

function readPrivateKey(env: Env): string {
  if (env.PRIVATE_KEY) return env.PRIVATE_KEY.replace(/\\n/g, "\n");
  if (!env.PRIVATE_KEY_PATH) {
    throw new ConfigError("APP_ID is set but neither PRIVATE_KEY nor PRIVATE_KEY_PATH is: download the key from the GitHub App's settings page.");
  }
  try {
    return readFileSync(env.PRIVATE_KEY_PATH, "utf8");
  } catch {
    throw new ConfigError(`PRIVATE_KEY_PATH: cannot read the file it names (check the path and its permissions).`);
  }
}

function parseOpencodeConfig(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError("AGENT_OPENCODE_CONFIG: not valid JSON.");
  }
  const object = z.record(z.string(), z.unknown()).safeParse(value);
  if (!object.success) throw new ConfigError("AGENT_OPENCODE_CONFIG: must be a JSON object.");
  return object.data;
}
