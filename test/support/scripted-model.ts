import type { ModelServer, ModelRequest, Turn } from "../fakes/model-server.ts";

const AGENTS = ["explore", "plan", "build"] as const;

/**
 * App env that points every agent at the scripted model server through
 * AGENT_OPENCODE_CONFIG, with one model id per agent (`scripted/explore`, …) so the
 * server knows which agent is asking.
 */
export function scriptedModelEnv(model: ModelServer, options: { costPerMillion?: { input: number; output: number } } = {}): Record<string, string> {
  const cost = options.costPerMillion ?? { input: 1, output: 2 };
  const models = Object.fromEntries(AGENTS.map((name) => [name, { name, tool_call: true, limit: { context: 128_000, output: 8_192 }, cost }]));
  const provider = {
    scripted: {
      npm: "@ai-sdk/openai-compatible",
      name: "Scripted",
      options: { baseURL: model.baseUrl, apiKey: "scripted-model-key-not-a-secret" },
      models,
    },
  };
  return {
    AGENT_OPENCODE_CONFIG: JSON.stringify({ provider }),
    AGENT_MODEL_EXPLORE: "scripted/explore",
    AGENT_MODEL_PLAN: "scripted/plan",
    AGENT_MODEL_BUILD: "scripted/build",
  };
}

export const EXPLORATION_REPORT = "## Relevant files\n- greet.js: does not exist yet; greet.test.js expects it\n## Tests\n`npm test` runs node --test";

export const GREET_PLAN = {
  summary: "Add greet() in greet.js",
  steps: [{ title: "Create greet.js exporting greet(name)", detail: "Return `Hello, ${name}!`", files: ["greet.js"] }],
};

/**
 * A script per agent and per round: `build[1]` answers the build agent's second prompt
 * (the first fix round), turn by turn. Explore and plan answer with a report and a plan
 * unless told otherwise.
 */
export function agentScript(rounds: { explore?: Turn[][]; plan?: Turn[][]; build: Turn[][] }): (request: ModelRequest) => Turn {
  const byAgent: Record<string, Turn[][]> = {
    explore: rounds.explore ?? [[{ text: EXPLORATION_REPORT }]],
    plan: rounds.plan ?? [[{ text: "```json\n" + JSON.stringify(GREET_PLAN) + "\n```" }]],
    build: rounds.build,
  };
  return (request: ModelRequest) => {
    const round = roundOf(request);
    return byAgent[request.agent]?.[round]?.[request.turnIndex] ?? { text: `Script exhausted (${request.agent}, round ${round}, turn ${request.turnIndex}).` };
  };
}

/** Prompts sent to one session so far, minus one: 0 for the first prompt. */
export function roundOf(request: ModelRequest): number {
  return request.body.messages.filter((message) => message.role === "user").length - 1;
}

/** The model requests of one agent that carried tools (title requests carry none). */
export function requestsOf(model: ModelServer, agent: string): ModelServer["requests"] {
  return model.requests.filter((request) => request.model === agent && (request.tools?.length ?? 0) > 0);
}
