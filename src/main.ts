import { existsSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { ConfigError, loadConfig, type Config } from "./config/load-config.ts";
import { WEBHOOK_PATH } from "./github/app-manifest.ts";
import { startSetupServer } from "./github/setup-server.ts";
import { startWebhookProxy, type WebhookProxy } from "./github/webhook-proxy.ts";
import { createLogger } from "./logger.ts";
import { startApp } from "./app.ts";
import { PostgresInUseError } from "./store/postmaster.ts";

/**
 * `npm start`. Without APP_ID, the setup page registers the GitHub App (manifest flow
 * from app.yml) and writes .env; restart afterwards. With it, the app runs in the role
 * ROLE names until SIGTERM, SIGINT or SIGHUP, then stops in order (`RunningApp.stop`).
 */
async function main(): Promise<void> {
  // The setup page writes the app's credentials to .env; real env vars win over it.
  if (existsSync(".env")) process.loadEnvFile(".env");
  const config = loadConfig();
  const log = createLogger(config.env.LOG_LEVEL);
  if (!config.app) {
    await serveSetupPage(config, log);
    return;
  }
  // Listening from the start: a signal during start-up (the web server answers before the
  // worker has started) would otherwise kill the process before anything is stopped.
  const starting = startApp({ config, log });
  let stopping = false;
  let proxy: WebhookProxy | null = null;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C: quit now. Running jobs go back to the queue when their heartbeat lapses,
      // and the embedded Postgres stops on its own once this process is gone.
      log.warn({ signal }, "stopping at once");
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, "stopping: no new jobs; running ones are handed back");
    // A start that fails is reported by main's caller; a stop waits for the start to end.
    starting.then(
      (app) =>
        Promise.resolve(proxy?.stop())
          .then(() => app.stop())
          .then(
            () => process.exit(0),
            (error: unknown) => {
              log.error({ err: error }, "shutdown failed");
              process.exit(1);
            },
          ),
      () => {},
    );
  };
  // SIGHUP: the terminal was closed.
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => stop(signal));
  const app = await starting;
  // WEBHOOK_PROXY_URL: replay what GitHub delivered to the channel to this web process.
  if (config.env.WEBHOOK_PROXY_URL && app.url && !stopping) proxy = startWebhookProxy({ source: config.env.WEBHOOK_PROXY_URL, target: `${app.url}${WEBHOOK_PATH}`, log });
}

async function serveSetupPage(config: Config, log: Logger): Promise<void> {
  if (config.env.NODE_ENV === "production") {
    throw new ConfigError("APP_ID is not set, and with NODE_ENV=production the setup page is not served: register the GitHub App from a development checkout (`npm start` without APP_ID) or by hand, then set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET.");
  }
  // The page writes credentials to .env for whoever completes it: only this machine may,
  // unless the operator names an interface. HOST's default (0.0.0.0) is the web role's.
  const hostGiven = Boolean(process.env.HOST);
  const host = hostGiven ? config.env.HOST : "127.0.0.1";
  const server = await startSetupServer({
    host,
    port: config.env.PORT,
    log,
    loopbackOnly: !hostGiven,
    appYmlPath: path.resolve("app.yml"),
    envFile: path.resolve(".env"),
    githubUrl: config.env.GHE_HOST ? `${config.env.GHE_PROTOCOL}://${config.env.GHE_HOST}` : "https://github.com",
    githubApiUrl: config.githubApiUrl,
    org: config.env.GH_ORG,
    webhookProxyUrl: config.env.WEBHOOK_PROXY_URL,
  });
  const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  log.info({ host, port: server.port }, `APP_ID is not set: open http://${shown}:${server.port}/probot to register the GitHub App`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof PostgresInUseError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
