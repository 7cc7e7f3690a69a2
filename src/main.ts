import { existsSync } from "node:fs";
import { run } from "probot";
import { ConfigError, loadConfig } from "./config/load-config.ts";
import { createLogger } from "./logger.ts";
import { startApp } from "./app.ts";

/**
 * `npm start`. Without APP_ID, Probot's setup page registers the GitHub App (manifest
 * flow from app.yml) and writes .env; restart afterwards. With it, the app runs in the
 * role ROLE names until SIGTERM or SIGINT.
 */
async function main(): Promise<void> {
  // Probot's setup page writes the app's credentials to .env; real env vars win over it.
  if (existsSync(".env")) process.loadEnvFile(".env");
  const config = loadConfig();
  const log = createLogger(config.env.LOG_LEVEL);
  if (!config.app) {
    log.info("APP_ID is not set: serving the GitHub App setup page");
    await run(() => {}, { env: { ...process.env, PORT: String(config.env.PORT), HOST: config.env.HOST } });
    return;
  }
  const app = await startApp({ config, log });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping: no new jobs; running ones are finished or handed back");
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
