/**
 * The model gateway: the sandbox's opencode talks to the model providers through the app,
 * with a per-job token, so that the real API keys never enter the sandbox (where any code
 * the agent runs could read them). A Probot `addHandler` handler for `/gateway/*`:
 *
 *   /gateway/<provider>/<the provider's own path>   e.g. /gateway/anthropic/v1/messages
 *
 * 1. find the provider, 2. authenticate the job's token, 3. refuse anything but a model
 * call (`model-endpoints.ts`) and, once the job's budget is spent, everything, 4. forward
 * with the real key, streaming the answer back: a model call priced per token through
 * `metered-call.ts` (its worst case reserved before, settled to its usage after), the
 * model list and token counting (which providers do not bill) as they are.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { formatUsd, usdOf } from "../budget.ts";
import type { Db } from "../store/database.ts";
import { forwardToProvider } from "./forward-request.ts";
import { sendGatewayError, type ProviderKind } from "./gateway-errors.ts";
import { findGatewayToken, GATEWAY_TOKEN_PATTERN, hashGatewayToken } from "./gateway-tokens.ts";
import { forwardMeteredCall } from "./metered-call.ts";
import { modelEndpointOf } from "./model-endpoints.ts";
import type { GatewayModel, ModelPricing } from "./pricing.ts";

export interface GatewayProvider {
  /**
   * The provider's URL without its API version (`https://api.anthropic.com`,
   * `https://generativelanguage.googleapis.com`): the client's path brings `/v1/…` or
   * `/v1beta/…`, so the client's baseURL is `<app>/gateway/<name>/v1` (or `/v1beta`).
   */
  baseUrl: string;
  apiKey: string;
  /** How the provider takes its key (Bearer, `x-api-key`, `x-goog-api-key`) and words its errors. */
  kind: ProviderKind;
  /** The price of the models below that name none; a model with no price at all is free (its requests are still counted). */
  pricing?: ModelPricing;
  /** The models a job may use, by the id its requests name; any other is refused. */
  models: Readonly<Record<string, GatewayModel>>;
}

export interface ModelGatewayOptions {
  db: Db;
  /** By the name in the gateway's paths: `/gateway/<name>/…`. */
  providers: Readonly<Record<string, GatewayProvider>>;
  log: Logger;
  now?: () => Date;
}

const PREFIX = "/gateway/";

interface Route {
  name: string;
  provider: GatewayProvider;
  /** The path after `/gateway/<name>`, as the client sent it. */
  path: string;
  target: URL;
}

export function createModelGateway(options: ModelGatewayOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const now = options.now ?? (() => new Date());
  for (const [name, provider] of Object.entries(options.providers)) checkProvider(name, provider);
  return async function handleGateway(req, res) {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!url.pathname.startsWith(PREFIX)) return false;
    // 1. The provider, and where on it the request goes.
    const route = routeOf(options.providers, url);
    if (!route.provider) {
      sendGatewayError(res, "openai", "not_found", `The model gateway has no provider "${route.name}". Paths are /gateway/<provider>/<the provider's API path>.`);
      return true;
    }
    const { provider } = route;
    try {
      // 2. The job's token.
      const tokenHash = presentedTokenHashOf(req);
      const row = tokenHash ? await findGatewayToken(options.db, tokenHash) : null;
      if (!tokenHash || !row || row.revokedAt || row.expiresAt.getTime() <= now().getTime()) {
        sendGatewayError(res, provider.kind, "unauthenticated", "The model gateway refused the job's token: it is unknown, revoked or expired.");
        return true;
      }
      if (row.jobId === null) {
        sendGatewayError(res, provider.kind, "unauthenticated", "The model gateway refused the token: it is a warm agent's, and no job has taken that agent yet.");
        return true;
      }
      const log = options.log.child({ jobId: row.jobId, provider: route.name });
      // 3. Model calls only, and only within the budget.
      const endpoint = modelEndpointOf(req.method, route.target.pathname);
      if (!endpoint) {
        sendGatewayError(res, provider.kind, "not_found", `The model gateway forwards model calls only, not ${req.method} ${route.path}.`);
        log.warn({ method: req.method, path: route.target.pathname }, "model gateway refused a request that is not a model call");
        return true;
      }
      if (endpoint.charge === "unmeterable") {
        sendGatewayError(res, provider.kind, "unmeterable", `The model gateway refuses what it cannot charge exactly: ${endpoint.reason}.`);
        log.warn({ path: route.target.pathname }, "model gateway refused a model call it cannot meter");
        return true;
      }
      if (row.spentMicroUsd >= row.budgetMicroUsd) {
        const [budget, spent] = [row.budgetMicroUsd, row.spentMicroUsd].map((micros) => formatUsd(usdOf(micros)));
        sendGatewayError(res, provider.kind, "budget_exceeded", `This job's model budget of ${budget} is spent (${spent} used); no more model requests are forwarded.`);
        log.info({ spentMicroUsd: row.spentMicroUsd, budgetMicroUsd: row.budgetMicroUsd }, "model request refused: budget spent");
        return true;
      }
      // 4. Forward.
      const target = { url: route.target, kind: provider.kind, apiKey: provider.apiKey };
      if (endpoint.charge === "metered") {
        await forwardMeteredCall({ db: options.db, req, res, providerName: route.name, provider, target, endpoint, tokenHash, log });
        return true;
      }
      const answer = await forwardToProvider(req, res, target);
      if (answer.failure) sendGatewayError(res, provider.kind, "bad_gateway", answer.failure);
      else if (!res.writableEnded && !res.destroyed) res.end();
      log.debug({ path: route.target.pathname, status: answer.status }, "unbilled model request forwarded");
    } catch (error) {
      options.log.error({ err: error, provider: route.name, path: url.pathname }, "model gateway request failed");
      if (!res.headersSent) sendGatewayError(res, provider.kind, "bad_gateway", "The model gateway failed; see the app's log.");
      else res.destroy();
    }
    return true;
  };
}

/** The provider named in the path and the URL to forward to; no provider when either is unknown. */
function routeOf(providers: ModelGatewayOptions["providers"], url: URL): Route | { name: string; provider?: undefined } {
  const match = /^\/gateway\/([^/]+)(\/.*)$/.exec(url.pathname);
  const name = match?.[1] ?? "";
  const path = match?.[2] ?? "";
  const provider = Object.hasOwn(providers, name) ? providers[name] : undefined;
  const target = provider && upstreamUrlOf(provider.baseUrl, path, url.search);
  return provider && target ? { name, provider, path, target } : { name };
}

function checkProvider(name: string, provider: GatewayProvider): void {
  const url = URL.canParse(provider.baseUrl) ? new URL(provider.baseUrl) : undefined;
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.search !== "" || url.username !== "") {
    throw new Error(`The model gateway's provider "${name}" needs a baseUrl such as https://api.anthropic.com (http or https, no query, no credentials in it).`);
  }
  if (provider.apiKey === "") throw new Error(`The model gateway's provider "${name}" has no apiKey.`);
  if (Object.keys(provider.models).length === 0) throw new Error(`The model gateway's provider "${name}" lists no models: list those jobs may use, with their prices.`);
}

/** The hash of the token the client's SDK sent, whichever header its provider uses; undefined when there is none that could be ours. */
function presentedTokenHashOf(req: IncomingMessage): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
  const header = (name: string): string | undefined => {
    const value = req.headers[name];
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  };
  const token = bearer ?? header("x-api-key") ?? header("x-goog-api-key");
  return token && GATEWAY_TOKEN_PATTERN.test(token) ? hashGatewayToken(token) : undefined;
}

/** The provider's URL for `path`; null if the path would leave the provider's base path. */
function upstreamUrlOf(baseUrl: string, path: string, search: string): URL | null {
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  // Appended to the origin as text: `new URL(path, base)` would read `//host/…` as another host.
  const target = new URL(`${base.origin}${basePath}${path}${search}`);
  return target.origin === base.origin && target.pathname.startsWith(`${basePath}/`) ? target : null;
}
