import { describe, expect, it } from "vitest";
import { diskFullError, JobError } from "../src/job-error.ts";

describe("diskFullError", () => {
  it("tells a full disk in the worker's machinery in plain words, with what only the operator can do", () => {
    const git = new JobError("sandbox", "creating the job's work repository failed: error: copy-fd: write returned: No space left on device");
    const told = diskFullError(git)!;
    expect(told.message).toBe("The worker's disk is full, so the job could not go on (creating the job's work repository failed: error: copy-fd: write returned: No space left on device).");
    expect(told.nextStep).toContain("ask the operator to free space");
    expect(told.retryable).toBe(false);
    const system = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    expect(diskFullError(new Error("writing the checkpoint failed", { cause: system }))?.kind).toBe("sandbox");
  });

  it("leaves other failures alone, and text the repository's tests or the agent printed", () => {
    expect(diskFullError(new JobError("clone", "repository not found"))).toBeNull();
    expect(diskFullError(new JobError("tests", "npm test failed: Error: No space left on device (a test of disk handling)"))).toBeNull();
    expect(diskFullError(new JobError("agent", "the agent said: No space left on device"))).toBeNull();
    expect(diskFullError("something else")).toBeNull();
  });
});
