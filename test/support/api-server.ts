import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { PgBoss } from "pg-boss";
import pino from "pino";
import { createApiHandler, type ApiDeps } from "../../src/api/routes.ts";
import { startQueue } from "../../src/queue/boss.ts";
import type { Job } from "../../src/store/jobs.sql.ts";
import type { TestDatabase } from "./database.ts";

export const TEST_API_TOKEN = "api-token-for-tests-0123";

export interface ApiServer {
  url: string;
  boss: PgBoss;
  /** Jobs the API asked to show on GitHub, in order. */
  shown: Job[];
  /** GET/POST/DELETE with the bearer token (or `token`, or none with null). */
  call(method: string, path: string, options?: { body?: unknown; token?: string | null; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The REST API alone, on a free port, over the test's database and a pg-boss queue of its
 * own; paths it does not serve answer 418, so a test can tell "not mine" from an error.
 */
export async function startApiServer(
  database: TestDatabase,
  options: { apiToken?: string | undefined; eventStream?: ApiDeps["eventStream"]; apiGitHub?: ApiDeps["apiGitHub"]; signIn?: ApiDeps["signIn"] } = {},
): Promise<ApiServer> {
  const apiToken = "apiToken" in options ? options.apiToken : TEST_API_TOKEN;
  const boss = await startQueue(database.url, { jobTimeoutSeconds: 600, heartbeatSeconds: 30 }, pino({ level: "silent" }));
  const shown: Job[] = [];
  const handle = createApiHandler({
    db: database.db,
    pool: database.pool,
    boss,
    showOnGitHub: (job) => shown.push(job),
    apiToken,
    role: "all",
    log: pino({ level: "silent" }),
    ...(options.eventStream ? { eventStream: options.eventStream } : {}),
    ...(options.apiGitHub ? { apiGitHub: options.apiGitHub } : {}),
    ...(options.signIn ? { signIn: options.signIn } : {}),
  });
  const server = createServer((req, res) => void handle(req, res).then((handled) => handled || res.writeHead(418).end()));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    boss,
    shown,
    call(method, path, callOptions = {}) {
      const token = callOptions.token === undefined ? apiToken : callOptions.token;
      const body = callOptions.body;
      return fetch(`${url}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }), ...callOptions.headers },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await boss.stop({ graceful: false });
    },
  };
}
