/**
 * `npm run eval:offline [-- <suite>] [eval options]`: `running-agent eval` with the real
 * opencode binary against the scripted model server instead of a provider, each task
 * answered by its own `model-script.json`. No network and no keys: it measures the loop
 * (and shows the report), not a model. The suite defaults to eval/suites/basic.
 */
import path from "node:path";
import { main } from "../src/cli/main.ts";
import { EvalInputError } from "../src/eval/eval-input-error.ts";
import { loadSuite, type EvalTask } from "../src/eval/suite.ts";
import { startModelServer } from "../test/fakes/model-server.ts";
import { loadScriptedTasks, suiteModelScript } from "../test/support/eval-scripts.ts";
import { scriptedModelEnv } from "../test/support/scripted-model.ts";

const DEFAULT_SUITE = path.join(import.meta.dirname, "suites", "basic");

const args = process.argv.slice(2);
const suite = args[0] !== undefined && !args[0].startsWith("-") ? args.shift()! : DEFAULT_SUITE;
const tasks = await loadSuite(suite).catch((error: unknown): EvalTask[] => {
  // `main` reports the suite's problems itself, with exit code 2.
  if (error instanceof EvalInputError) return [];
  throw error;
});
const model = await startModelServer(suiteModelScript(await loadScriptedTasks(tasks)));
const controller = new AbortController();
process.on("SIGINT", () => controller.abort());
let code: number;
try {
  code = await main(["eval", suite, ...args], {
    stdout: process.stdout,
    stderr: process.stderr,
    env: { ...process.env, ...scriptedModelEnv(model) },
    cwd: process.cwd(),
    interrupt: controller.signal,
  });
} finally {
  await model.close();
}
process.exit(code);
