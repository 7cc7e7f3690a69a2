/**
 * Following one prompt through opencode's event stream: when it is finished, what the
 * agent is doing meanwhile (tool calls, cost so far), and answering for the absent human.
 *
 * Hazards handled here:
 * - Subscribe BEFORE sending the prompt, and only once `server.connected` arrived:
 *   opencode does not replay events, so anything earlier is lost.
 * - `promptAsync` returns before the session turns busy (by ~0.7 s on a cold instance),
 *   so "idle" only means finished after we have seen it busy.
 * - If the stream drops, events are lost; after reconnecting we ask the server whether
 *   the session is still busy instead of waiting for an idle event that already went by.
 * - A permission or question that still gets asked (a rule we did not foresee) would
 *   block forever: it is rejected at once and reported.
 */
import type { AssistantMessage, Event, OpencodeClient } from "@opencode-ai/sdk/v2";

export type PromptProgress =
  | { kind: "tool"; sessionId: string; tool: string; status: "running" | "completed" | "error"; title?: string }
  | { kind: "usage"; cost: number; tokensIn: number; tokensOut: number }
  | { kind: "retry"; attempt: number; message: string }
  | { kind: "rejected"; sessionId: string; what: string };

export interface SessionWatch {
  /** Resolves once the stream is live: send the prompt only then. */
  connected: Promise<void>;
  /** Resolves when the session has gone busy and then idle again; rejects if following it failed. */
  finished: Promise<void>;
  close(): void;
}

interface WatchOptions {
  client: OpencodeClient;
  sessionId: string;
  onProgress?: (progress: PromptProgress) => void;
  /** Asked after a reconnect: is the prompt over? (The idle event may have been missed.) */
  isFinished: (busySeen: boolean) => Promise<boolean>;
}

export function watchSession(options: WatchOptions): SessionWatch {
  const { client, sessionId } = options;
  const controller = new AbortController();
  const family = new Set([sessionId]);
  const usage = new Map<string, AssistantMessage>();
  const reportedTools = new Map<string, string>();
  let busySeen = false;
  let lastTotal = "";
  let connections = 0;
  let markConnected: () => void = () => {};
  let failConnecting: (error: unknown) => void = () => {};
  const connected = new Promise<void>((resolve, reject) => ((markConnected = resolve), (failConnecting = reject)));
  connected.catch(() => {});
  let settle: { resolve: () => void; reject: (error: unknown) => void } = { resolve: () => {}, reject: () => {} };
  const finished = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  finished.catch(() => {}); // rejections are read by whoever awaits `finished`; never unhandled

  const progress = (event: PromptProgress): void => options.onProgress?.(event);

  const handle = async (event: Event): Promise<void> => {
    switch (event.type) {
      case "server.connected":
        connections += 1;
        markConnected();
        if (connections > 1 && (await options.isFinished(busySeen))) settle.resolve();
        return;
      case "session.created":
        if (event.properties.info.parentID !== undefined && family.has(event.properties.info.parentID)) family.add(event.properties.info.id);
        return;
      case "session.status": {
        if (event.properties.sessionID !== sessionId) return;
        const status = event.properties.status;
        if (status.type === "busy") busySeen = true;
        if (status.type === "retry") progress({ kind: "retry", attempt: status.attempt, message: status.message });
        if (status.type === "idle" && busySeen) settle.resolve();
        return;
      }
      case "session.idle":
        if (event.properties.sessionID === sessionId && busySeen) settle.resolve();
        return;
      case "message.updated": {
        const info = event.properties.info;
        if (info.role !== "assistant" || !family.has(info.sessionID)) return;
        usage.set(info.id, info);
        // opencode sends each finished message more than once; report a total only when it moved.
        const total = sumUsage([...usage.values()]);
        if (info.time.completed === undefined || JSON.stringify(total) === lastTotal) return;
        lastTotal = JSON.stringify(total);
        progress({ kind: "usage", ...total });
        return;
      }
      case "message.part.updated": {
        const part = event.properties.part;
        if (part.type !== "tool" || !family.has(part.sessionID) || part.state.status === "pending") return;
        if (reportedTools.get(part.callID) === part.state.status) return;
        reportedTools.set(part.callID, part.state.status);
        const title = part.state.status === "running" || part.state.status === "completed" ? part.state.title : undefined;
        progress({ kind: "tool", sessionId: part.sessionID, tool: part.tool, status: part.state.status, ...(title ? { title } : {}) });
        return;
      }
      case "permission.asked":
        if (!family.has(event.properties.sessionID)) return;
        await client.permission.reply({ requestID: event.properties.id, reply: "reject", message: "Nobody is there to approve this; it is not allowed." });
        progress({ kind: "rejected", sessionId: event.properties.sessionID, what: `permission ${event.properties.permission} ${event.properties.patterns.join(" ")}` });
        return;
      case "question.asked":
        if (!family.has(event.properties.sessionID)) return;
        await client.question.reject({ requestID: event.properties.id });
        progress({ kind: "rejected", sessionId: event.properties.sessionID, what: "a question to the user" });
        return;
      default:
        return;
    }
  };

  const follow = async (): Promise<void> => {
    // The SDK reconnects after network errors, but ends the stream when the server closes it: subscribe again then.
    while (!controller.signal.aborted) {
      const { stream } = await client.event.subscribe(undefined, {
        signal: controller.signal,
        sseDefaultRetryDelay: 250,
        sseMaxRetryDelay: 2_000,
      });
      for await (const event of stream) await handle(event);
    }
  };
  follow().catch((error: unknown) => {
    failConnecting(error);
    settle.reject(error);
  });
  return { connected, finished, close: () => controller.abort() };
}

export function sumUsage(messages: readonly AssistantMessage[]): { cost: number; tokensIn: number; tokensOut: number } {
  return messages.reduce(
    (total, message) => ({
      cost: total.cost + message.cost,
      tokensIn: total.tokensIn + message.tokens.input,
      tokensOut: total.tokensOut + message.tokens.output + message.tokens.reasoning,
    }),
    { cost: 0, tokensIn: 0, tokensOut: 0 },
  );
}
