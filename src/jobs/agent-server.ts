import { mergeDeep, type JsonObject } from "../agent/deep-merge.ts";
import { buildOpencodeConfig } from "../agent/opencode-config.ts";
import { startOpencodeServer, type OpencodeServer } from "../agent/opencode-server.ts";
import type { Sandbox, SandboxProvider } from "../sandbox/sandbox.ts";
import { gatewayProviders } from "./gateway-access.ts";
import type { WorkerSettings } from "./run-job.ts";
import type { WarmAgent } from "./warm-agents.ts";

/**
 * The job's opencode server: the warm agent's it was given (whose gateway token the job
 * has bound to itself: `grantGatewayToken`); otherwise one started now in the job's
 * sandbox, with the token in its config. Either way it serves this job only and dies with
 * its sandbox.
 */
export async function agentServerFor(input: { settings: WorkerSettings; provider: SandboxProvider; sandbox: Sandbox; gatewayToken: string | null; warm?: WarmAgent }): Promise<OpencodeServer> {
  const { settings, sandbox, gatewayToken, warm } = input;
  if (warm) return warm.server;
  const gateway = settings.gateway && gatewayToken !== null ? gatewayProviders(settings.gateway, gatewayToken) : null;
  return startOpencodeServer(sandbox, { config: opencodeConfigOf(settings, gateway), ...serverPlacementOf(input.provider) });
}

export function opencodeConfigOf(settings: WorkerSettings, gateway: JsonObject | null) {
  const extra = gateway ? mergeDeep(settings.opencodeExtraConfig, gateway) : settings.opencodeExtraConfig;
  return buildOpencodeConfig({ models: settings.models, extra });
}

/**
 * Where opencode runs: on this host, the host's binary on a free loopback port; in an E2B
 * VM, the template's binary, reachable from the worker only through E2B's edge (0.0.0.0),
 * password-protected like every server of ours.
 */
export function serverPlacementOf(provider: SandboxProvider): { binary?: string; hostname?: string; port?: number } {
  return provider.name === "e2b" ? { binary: "opencode", hostname: "0.0.0.0", port: 4096 } : {};
}
