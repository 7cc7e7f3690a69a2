import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { platformPackagesOf, resolveOpencodeBinary } from "../../src/sandbox/opencode-binary.ts";
import { JobError } from "../../src/job-error.ts";

let dir: string;
let fakeBinary: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "opencode-binary-test-"));
  fakeBinary = join(dir, "opencode");
  await writeFile(fakeBinary, "#!/bin/sh\n");
  await chmod(fakeBinary, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("resolveOpencodeBinary", () => {
  it("prefers OPENCODE_BIN, and refuses one that is not executable", () => {
    expect(resolveOpencodeBinary({ env: { OPENCODE_BIN: fakeBinary } })).toBe(fakeBinary);
    expect(() => resolveOpencodeBinary({ env: { OPENCODE_BIN: join(dir, "missing") } })).toThrow(/OPENCODE_BIN/);
  });

  it("finds the platform package installed in node_modules", () => {
    const binary = resolveOpencodeBinary({ env: {}, cpuInfo: "flags: sse avx2", platform: "linux", arch: "x64" });
    expect(binary).toMatch(/node_modules\/opencode-linux-x64\/bin\/opencode$/);
    const baseline = resolveOpencodeBinary({ env: {}, cpuInfo: "flags: sse avx", platform: "linux", arch: "x64" });
    expect(baseline).toMatch(/node_modules\/opencode-linux-x64-baseline\/bin\/opencode$/);
  });

  it("falls back to PATH, then says what to install", () => {
    expect(resolveOpencodeBinary({ env: { PATH: `/nonexistent:${dir}` }, platform: "linux", arch: "riscv" })).toBe(fakeBinary);
    const failure = (() => {
      try {
        return resolveOpencodeBinary({ env: { PATH: "/nonexistent" }, platform: "linux", arch: "riscv" });
      } catch (error) {
        return error;
      }
    })();
    expect(failure).toBeInstanceOf(JobError);
    expect(failure).toMatchObject({ kind: "setup" });
    expect((failure as JobError).nextStep).toContain("npm install opencode-linux-riscv");
  });
});

describe("platformPackagesOf", () => {
  it("picks the baseline build for x64 CPUs without AVX2", () => {
    expect(platformPackagesOf("linux", "x64", () => "flags: avx2")).toEqual(["opencode-linux-x64", "opencode-linux-x64-baseline"]);
    expect(platformPackagesOf("linux", "x64", () => "flags: avx")).toEqual(["opencode-linux-x64-baseline"]);
    expect(platformPackagesOf("linux", "arm64", () => "")).toEqual(["opencode-linux-arm64"]);
  });
});
