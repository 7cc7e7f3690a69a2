/**
 * The E2B template agent sandboxes start from (`E2B_TEMPLATE`, default `running-agent`):
 * Node 22, git, ripgrep (opencode's grep and glob tools download it otherwise, and
 * sandboxes deny most egress) and the opencode binary. Built on E2B's infrastructure:
 *
 *   E2B_API_KEY=… node e2b/template.ts [name]
 *
 * Rebuild when the opencode version in package.json changes: the worker's SDK and the
 * server in the sandbox should match.
 */
import { readFileSync } from "node:fs";
import { Template, defaultBuildLogger } from "e2b";

const opencodeVersion = opencodeVersionOfProject();

export const agentTemplate = Template()
  .fromNodeImage("22-bookworm")
  .aptInstall(["git", "ripgrep", "ca-certificates", "procps"], { noInstallRecommends: true })
  .npmInstall(`opencode-ai@${opencodeVersion}`, { g: true })
  // The sandbox user's workspace, as the provider expects it (`src/sandbox/e2b-sandbox.ts`),
  // owned by that user: commands and file writes run as `user`, not root.
  .makeDir("/home/user/workspace", { user: "user" })
  .setUser("user")
  .setWorkdir("/home/user/workspace");

/** The version the worker is built against: `opencode-linux-x64` in package.json. */
function opencodeVersionOfProject(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { optionalDependencies?: Record<string, string> };
  const version = pkg.optionalDependencies?.["opencode-linux-x64"];
  if (!version) throw new Error("package.json has no optionalDependencies.opencode-linux-x64 to take the opencode version from.");
  return version;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const name = process.argv[2] ?? process.env.E2B_TEMPLATE ?? "running-agent";
  if (!process.env.E2B_API_KEY) throw new Error("Set E2B_API_KEY to build the template.");
  const build = await Template.build(agentTemplate, name, { apiKey: process.env.E2B_API_KEY, cpuCount: 2, memoryMB: 4096, onBuildLogs: defaultBuildLogger() });
  console.warn(`built E2B template ${build.name} (${build.templateId}, build ${build.buildId})`);
}
