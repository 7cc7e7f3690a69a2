import nock from "nock";
import { afterEach, beforeEach, expect } from "vitest";
import type { ModelServer } from "../fakes/model-server.ts";
import type { AppHarness } from "./app-harness.ts";
import { createGitRemote, GREETING_PROJECT, type GitRemote } from "./git-remote.ts";

export interface EndToEnd {
  /** A fresh bare repository seeded with the greeting project, for each test. */
  remote: GitRemote;
  /** Set by the test; closed after it. */
  model: ModelServer | undefined;
  /** Set by the test; stopped after it. */
  harness: AppHarness | undefined;
}

/**
 * The hooks every in-process end-to-end test file needs: GitHub is nock (loopback stays
 * reachable for the webhook, opencode and the model), each test gets a fresh remote, and
 * whatever it started is stopped, with every nock scope asserted done.
 */
export function useEndToEnd(): EndToEnd {
  const state = { model: undefined, harness: undefined } as EndToEnd;
  beforeEach(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect((host) => host.startsWith("127.0.0.1") || host.startsWith("localhost"));
    state.remote = await createGitRemote(GREETING_PROJECT);
  });
  afterEach(async () => {
    await state.harness?.stop();
    await state.model?.close();
    await state.remote.cleanup();
    state.harness = undefined;
    state.model = undefined;
    const pending = nock.pendingMocks();
    nock.cleanAll();
    nock.enableNetConnect();
    expect(pending).toEqual([]);
  });
  return state;
}
