export * from "./jobs.sql.ts";
export * from "./job-events.sql.ts";
export * from "./webhook-deliveries.sql.ts";
export * from "./gateway-tokens.sql.ts";
export * from "./pipeline-runs.sql.ts";
export * from "./pipelines.sql.ts";
export * from "./refusal-replies.sql.ts";
export * from "./pull-requests.sql.ts";
