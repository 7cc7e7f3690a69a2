import type { Logger } from "pino";
import { SmeeClient } from "smee-client";

export interface WebhookProxy {
  stop(): Promise<void>;
}

/**
 * WEBHOOK_PROXY_URL, as in Probot: deliveries GitHub sent to a smee.io channel (for a
 * server GitHub cannot reach, a laptop) are replayed to this server's webhook path. The
 * web role serves HTTP itself rather than through Probot's Server, which started this, so
 * without it a channel registered by the setup page would receive and forward nothing.
 */
export function startWebhookProxy(options: { source: string; target: string; log: Logger }): WebhookProxy {
  const log = options.log.child({ name: "webhook-proxy" });
  const client = new SmeeClient({
    source: options.source,
    target: options.target,
    logger: { info: (message: string) => log.info(message), error: (...args: unknown[]) => log.warn({ detail: args.map(String) }, "webhook proxy") },
  });
  // Not awaited: the channel may be unreachable for a while, and the event source keeps reconnecting.
  client.start().then(
    () => log.info({ target: options.target }, "forwarding the webhook proxy's deliveries"),
    (error: unknown) => log.warn({ err: error }, "cannot reach the webhook proxy yet; retrying"),
  );
  return { stop: () => client.stop() };
}
