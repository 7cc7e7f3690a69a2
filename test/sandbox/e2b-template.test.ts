import { readFileSync } from "node:fs";
import { Template } from "e2b";
import { describe, expect, it } from "vitest";
import { agentTemplate } from "../../e2b/template.ts";

describe("the E2B template", () => {
  it("has Node 22, git, ripgrep and the opencode version the worker is built against, for the sandbox user", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { optionalDependencies: Record<string, string> };
    const dockerfile = Template.toDockerfile(agentTemplate);
    expect(dockerfile).toMatch(/^FROM node:22-bookworm$/m);
    expect(dockerfile).toMatch(/apt-get install .*\bgit\b.*\bripgrep\b/);
    expect(dockerfile).toContain(`npm install -g opencode-ai@${pkg.optionalDependencies["opencode-linux-x64"]}`);
    expect(dockerfile).toMatch(/^USER user$/m);
    expect(dockerfile).toMatch(/^WORKDIR \/home\/user\/workspace$/m);
  });
});
