import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/*.sql.ts",
  out: "./migrations",
  // pg-boss owns its own schema; drizzle must never try to diff or drop it.
  schemaFilter: ["public"],
});
