import pino from "pino";
import type pg from "pg";
import type { ProbotOctokit } from "probot";
import { describe, expect, it } from "vitest";
import { githubHost } from "../../../src/github/host/github-host.ts";
import { jobFixture } from "../../support/job-fixture.ts";

const host = githubHost({
  pool: {} as pg.Pool,
  octokit: {} as ProbotOctokit,
  repositoryToken: async () => "ghs_unused",
  lookUpRole: async () => "write",
  issueContext: "all",
  log: pino({ level: "silent" }),
  now: () => new Date(),
});

describe("who announces a job on GitHub", () => {
  it("leaves to the web process the jobs it made from a webhook, and to the worker the others, which it must not wait for", () => {
    // The web announces what it makes from a delivery (after its answer): the worker starts on the base it records.
    expect(host.announcedElsewhere?.(jobFixture({ deliveryId: "delivery-1", trigger: "comment" }))).toBe(true);
    expect(host.announcedElsewhere?.(jobFixture({ deliveryId: "delivery-2", trigger: "ci" }))).toBe(true);
    // Nobody else announces a pipeline's step, an API task or a job a message became: waiting for its base would only lose two seconds.
    expect(host.announcedElsewhere?.(jobFixture({ deliveryId: null, trigger: "pipeline" }))).toBe(false);
    expect(host.announcedElsewhere?.(jobFixture({ deliveryId: null, trigger: "api" }))).toBe(false);
    expect(host.announcedElsewhere?.(jobFixture({ deliveryId: null, trigger: "comment" }))).toBe(false);
  });
});
