import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The rooms of src/ and what each may import (AGENTS.md, "Where code goes"). A rule
 * broken here names the room the code belongs in. Type imports count: a type couples
 * two rooms as much as a function does. Dynamic `import()` is checked by
 * test/architecture.test.ts, which also refuses any cycle between folders.
 */

/** src/*.ts that import nothing of ours but each other: any room may use them. */
const SHARED = ["body-limit", "budget", "duration", "free-port", "job-error", "json", "logger", "redact"];
/** The composition root: it imports the rooms, and nothing imports it. */
const COMPOSITION = /(^|\/)(main|app|worker-role)\.ts$/.source;

const noGitHub = (message) => [
  { regex: "^probot($|/)", message },
  { regex: "(^|/)github/", message },
];
const noJobs = (room) => ({
  regex: "(^|/)jobs/",
  message: `${room}/ runs below jobs/ and knows nothing of jobs: take what you need as a parameter, or move what both need to a shared src/*.ts (job-error.ts, budget.ts, …).`,
});
const noComposition = { regex: COMPOSITION, message: "main.ts, app.ts and worker-role.ts compose the rooms; nothing imports them. Take what you need as a parameter." };
const restrict = (files, patterns) => ({ files, rules: { "@typescript-eslint/no-restricted-imports": ["error", { patterns: [...patterns, noComposition] }] } });

const belowJobs = (room) =>
  restrict([`src/${room}/**`], [...noGitHub(`${room}/ knows no GitHub: take what you need as a parameter; GitHub's side lives in src/github/.`), noJobs(room)]);

export default tseslint.config(
  { ignores: ["node_modules", ".data", "migrations", "coverage"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "prefer-const": "error",
      "no-console": ["error", { allow: ["warn", "error"] }],
    },
  },
  {
    files: ["bench/**", "bin/**", "test/fakes/**"],
    rules: { "no-console": "off" },
  },
  // The dashboard's own script: plain ES modules the browser runs as they are (no build step).
  {
    files: ["src/dashboard/**/*.js"],
    languageOptions: {
      globals: Object.fromEntries(
        ["window", "document", "location", "fetch", "sessionStorage", "setTimeout", "clearTimeout", "queueMicrotask", "AbortController", "CustomEvent", "Element", "ResizeObserver", "TextDecoderStream", "URL", "URLSearchParams"].map((name) => [name, "readonly"]),
      ),
    },
  },
  // Every room but the composition root and src/cli (which composes the local runs).
  restrict(["src/*/**"], []),
  restrict(["src/jobs/**"], noGitHub("jobs/ knows no GitHub: add a method to JobHost (src/jobs/job-host.ts) and implement it in github/host/ and local/.")),
  restrict(["src/pipelines/**"], noGitHub("pipelines/ settles steps and returns the run; it shows nothing: show it from github/show/ (see show-job-change.ts).")),
  restrict(["src/queue/**"], noGitHub("queue/ moves job ids and knows no GitHub: the handler it is given does the rest.")),
  restrict(["src/gateway/**"], noGitHub("gateway/ meters model calls and knows no GitHub.")),
  belowJobs("agent"),
  belowJobs("sandbox"),
  belowJobs("verify"),
  belowJobs("context"),
  {
    files: ["src/store/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: `^\\.\\./(?!(${SHARED.join("|")})\\.ts$)(?!.*\\.schema\\.ts$)`,
              message: "store/ is tables and queries: it imports nothing outside store/ but types from *.schema.ts and the shared src/*.ts. Move the type here, or the query to the room that needs it.",
            },
            { regex: "\\.schema\\.ts$", allowTypeImports: true, message: "store/ takes only types from a *.schema.ts, never its values (the zod schemas)." },
            ...noGitHub("store/ knows no GitHub."),
          ],
        },
      ],
    },
  },
  restrict(
    ["src/github/webhook/**"],
    [
      {
        regex: "^\\.\\./(host/|\\.\\./(sandbox|agent)/)",
        message: "A webhook handler answers within 10 s with rows and queue messages only: it never runs a job (github/host/, sandbox/, agent/). Enqueue the work (src/queue/boss.ts) and let a worker do it.",
      },
    ],
  ),
  restrict(
    ["src/github/show/**"],
    [{ regex: "^\\.\\./(webhook|host)/", message: "github/show/ renders and writes what GitHub shows: it neither handles webhooks (github/webhook/) nor runs jobs (github/host/). Pass what it needs in." }],
  ),
  {
    files: SHARED.map((name) => `src/${name}.ts`),
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        { patterns: [{ regex: `^\\.\\./|^\\./(?!(${SHARED.join("|")})\\.ts$)`, message: "The shared src/*.ts import nothing of ours but each other: every room may use them, so they must not pull a room in." }] },
      ],
    },
  },
);
