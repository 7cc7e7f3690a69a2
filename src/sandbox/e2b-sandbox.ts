/**
 * The E2B sandbox: a microVM per job, created from our template (`e2b/template.ts`) and
 * driven through the `e2b` SDK. Nothing secret goes into the sandbox at creation (no
 * envs, only the job id and our app name as metadata, which anyone with the API key can
 * list); with an egress allow-list, everything else is denied at E2B's edge.
 */
import { posix } from "node:path";
import { ALL_TRAFFIC, Sandbox as E2bSdkSandbox, type CommandHandle, type ConnectionOpts, type SandboxOpts } from "e2b";
import type { Logger } from "pino";
import { JobError } from "../job-error.ts";
import { execInE2b, spawnInE2b, type E2bRunOptions } from "./e2b-commands.ts";
import { xdgDirsOf } from "./local-env.ts";
import type { Sandbox, SandboxLimits, SandboxProvider } from "./sandbox.ts";

/** Metadata `app` of every sandbox we create: what the reaper lists. */
export const e2bAppTag = "running-agent";
export const e2bHome = "/home/user";
export const e2bWorkdir = "/home/user/workspace";

const defaultExecTimeoutMs = 10 * 60_000;
/** The VM outlives the job's own deadline by this much, so the job ends (and reports) first. */
const defaultLifetimeMarginMs = 5 * 60_000;

export interface E2bConnection {
  apiKey: string;
  /** Default `https://api.<domain>`; tests point it at the fake. */
  apiUrl?: string;
  /** Default `e2b.app` (or `E2B_DOMAIN`). */
  domain?: string;
  /** Where the SDK reaches the VM's envd (commands, files). Default derived from the domain; tests point it at the fake. */
  sandboxUrl?: string;
}

export interface E2bProviderOptions extends E2bConnection {
  /** Template name or id (`E2B_TEMPLATE`). */
  template: string;
  /** Hosts (domains, `*.domain`, IPs, CIDRs) the sandbox may reach; everything else is denied. Absent: E2B's default, open internet. */
  egress?: { allow: string[] };
  lifetimeMarginMs?: number;
  log: Logger;
}

export interface E2bSandbox extends Sandbox {
  /**
   * Pause the VM (memory and disk) instead of killing it, for a follow-up to resume with
   * `Sandbox.connect(id)`. Afterwards `destroy` leaves it alone. Resolves with the E2B
   * sandbox id, or null when the sandbox was destroyed first.
   */
  pauseForFollowUp(): Promise<string | null>;
}

type CreateOptions = Parameters<SandboxProvider["create"]>[0];

export interface E2bSandboxProvider extends SandboxProvider {
  create(options: CreateOptions): Promise<E2bSandbox>;
  resume(id: string, options: { jobId: string; limits: SandboxLimits; env?: Record<string, string> }): Promise<E2bSandbox | null>;
}

export function createE2bSandboxProvider(options: E2bProviderOptions): E2bSandboxProvider {
  return {
    name: "e2b",
    create: (createOptions) => createE2bSandbox(options, createOptions),
    resume: (id, resumeOptions) => resumeE2bSandbox(options, id, resumeOptions),
  };
}

/**
 * A paused VM back (`Sandbox.connect` resumes it), with its disk and memory as the earlier
 * job left them and a fresh lifetime; null when E2B no longer has it.
 */
async function resumeE2bSandbox(options: E2bProviderOptions, id: string, resumeOptions: { jobId: string; limits: SandboxLimits; env?: Record<string, string> }): Promise<E2bSandbox | null> {
  let vm: E2bSdkSandbox;
  try {
    vm = await E2bSdkSandbox.connect(id, { ...connectionOf(options), timeoutMs: resumeOptions.limits.timeoutMs + (options.lifetimeMarginMs ?? defaultLifetimeMarginMs) });
  } catch (error) {
    options.log.info({ err: error, e2bSandboxId: id }, "the paused E2B sandbox could not be resumed; starting a fresh one");
    return null;
  }
  const log = options.log.child({ jobId: resumeOptions.jobId, e2bSandboxId: vm.sandboxId });
  log.info("E2B sandbox resumed for a follow-up");
  return wrapE2bSandbox(vm, { log, env: resumeOptions.env });
}

/** The SDK's options for a job's sandbox: pure, so the payload can be checked without a VM. */
export function e2bSandboxOptionsOf(options: E2bProviderOptions, jobId: string, limits: SandboxLimits): SandboxOpts {
  return {
    ...connectionOf(options),
    timeoutMs: limits.timeoutMs + (options.lifetimeMarginMs ?? defaultLifetimeMarginMs),
    metadata: { jobId, app: e2bAppTag },
    // Never anything here: sandbox-wide envs are visible to every process the agent runs.
    envs: {},
    lifecycle: { onTimeout: "kill" },
    // Ports are reachable only with the sandbox's traffic access token (and opencode's password on top).
    network: { allowPublicTraffic: false, ...(options.egress ? { allowOut: [...options.egress.allow], denyOut: [ALL_TRAFFIC] } : {}) },
  };
}

export function connectionOf(options: E2bConnection): ConnectionOpts {
  return {
    apiKey: options.apiKey,
    ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
    ...(options.domain ? { domain: options.domain } : {}),
    ...(options.sandboxUrl ? { sandboxUrl: options.sandboxUrl } : {}),
  };
}

async function createE2bSandbox(options: E2bProviderOptions, createOptions: CreateOptions): Promise<E2bSandbox> {
  const egress = options.egress && createOptions.egress?.length ? { allow: [...new Set([...options.egress.allow, ...createOptions.egress])] } : options.egress;
  const vm = await E2bSdkSandbox.create(options.template, e2bSandboxOptionsOf({ ...options, ...(egress ? { egress } : {}) }, createOptions.jobId, createOptions.limits));
  const log = options.log.child({ jobId: createOptions.jobId, e2bSandboxId: vm.sandboxId });
  try {
    await vm.files.makeDir(e2bWorkdir);
  } catch (error) {
    await vm.kill().catch(() => false);
    throw error;
  }
  log.info({ template: options.template }, "E2B sandbox created");
  return wrapE2bSandbox(vm, { log, env: createOptions.env });
}

function wrapE2bSandbox(vm: E2bSdkSandbox, input: { log: Logger; env?: Record<string, string> }): E2bSandbox {
  const baseEnv = { ...baseEnvOf(e2bHome), ...input.env };
  const handles = new Set<CommandHandle>();
  let ending: Promise<void> | undefined;
  let paused: Promise<string | null> | undefined;

  const runOptions = (cwd: string | undefined, env: Record<string, string> | undefined): E2bRunOptions => {
    if (ending) throw new JobError("sandbox", `The sandbox ${vm.sandboxId} has been destroyed or paused; nothing more can run in it.`);
    return { cwd: posix.resolve(e2bWorkdir, cwd ?? "."), envs: { ...baseEnv, ...env } };
  };
  // Our streams of spawned commands: let go of them, or a paused VM's would hang open.
  const release = async (): Promise<void> => {
    await Promise.all([...handles].map((handle) => handle.disconnect()));
    handles.clear();
  };

  return {
    id: vm.sandboxId,
    workdir: e2bWorkdir,
    home: e2bHome,
    exec: async (command, execOptions = {}) =>
      execInE2b(vm, command, { ...runOptions(execOptions.cwd, execOptions.env), timeoutMs: execOptions.timeoutMs ?? defaultExecTimeoutMs, stdin: execOptions.stdin }),
    spawn: (command, spawnOptions = {}) =>
      spawnInE2b(vm, command, runOptions(spawnOptions.cwd, spawnOptions.env), (handle) => {
        handles.add(handle);
        void handle.wait().then(
          () => handles.delete(handle),
          () => handles.delete(handle),
        );
      }),
    // E2B's edge terminates TLS for every port, and lets through only requests with the traffic token.
    urlOf: (port) => Promise.resolve(`https://${vm.getHost(port)}`),
    requestHeaders: (): Record<string, string> => (vm.trafficAccessToken ? { "e2b-traffic-access-token": vm.trafficAccessToken } : {}),
    writeFile: async (path, content) => {
      await vm.files.write(posix.resolve(e2bWorkdir, path), typeof content === "string" ? content : new Blob([content]));
    },
    readFile: (path) => vm.files.read(posix.resolve(e2bWorkdir, path)),
    readBytes: async (path, maxBytes) => {
      const file = posix.resolve(e2bWorkdir, path);
      const { size } = await vm.files.getInfo(file);
      if (size > maxBytes) throw new JobError("sandbox", `${posix.basename(file)} is ${size} bytes, more than the ${maxBytes} the worker takes from a sandbox.`);
      return Buffer.from(await vm.files.read(file, { format: "bytes" }));
    },
    destroy: () =>
      (ending ??= (async () => {
        await release();
        const killed = await vm.kill();
        input.log.info({ killed }, "E2B sandbox killed");
      })()),
    park: async () => {
      const id = await pauseForFollowUp();
      if (id === null) throw new JobError("sandbox", `The sandbox ${vm.sandboxId} was destroyed before it could be paused.`);
      return id;
    },
    pauseForFollowUp: () => pauseForFollowUp(),
  };

  function pauseForFollowUp(): Promise<string | null> {
    if (ending && !paused) return Promise.resolve(null);
    paused ??= (async () => {
      await release();
      try {
        await vm.pause();
      } catch (error) {
        // The job is over either way: a VM we could not pause must not run on.
        await vm.kill().catch(() => false);
        throw error;
      }
      input.log.info("E2B sandbox paused for a follow-up");
      return vm.sandboxId;
    })();
    ending ??= paused.then(
      () => undefined,
      () => undefined,
    );
    return paused;
  }
}

/** What every command gets (the template's PATH stays: bash -l sets it). */
function baseEnvOf(home: string): Record<string, string> {
  return { HOME: home, LANG: "C.UTF-8", ...xdgDirsOf(home), GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", CI: "true" };
}
