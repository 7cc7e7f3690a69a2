/**
 * Where the opencode binary is. We depend on the platform packages (`opencode-linux-x64`
 * and its `-baseline` twin for CPUs without AVX2) directly, as optionalDependencies:
 * `opencode-ai`'s postinstall, which would pick one, is not used because this machine's
 * registry does not serve the other platforms' packages it lists.
 */
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { JobError } from "../job-error.ts";

export interface BinaryLookup {
  env?: NodeJS.ProcessEnv;
  /** Contents of /proc/cpuinfo; read from the host when left out. */
  cpuInfo?: string;
  platform?: NodeJS.Platform;
  arch?: string;
}

/** `OPENCODE_BIN`, else the platform package from node_modules, else `opencode` on PATH. */
export function resolveOpencodeBinary(lookup: BinaryLookup = {}): string {
  const env = lookup.env ?? process.env;
  const configured = env.OPENCODE_BIN;
  if (configured !== undefined && configured !== "") {
    if (isExecutable(configured)) return configured;
    throw new JobError("setup", `OPENCODE_BIN is set to ${configured}, which is not an executable file.`, {
      nextStep: "Point OPENCODE_BIN at the opencode binary, or unset it to use the one from node_modules.",
    });
  }
  const candidates = platformPackagesOf(lookup.platform ?? process.platform, lookup.arch ?? process.arch, () => lookup.cpuInfo ?? readCpuInfo());
  const fromPackage = candidates.map(binaryInPackage).find((path) => path !== undefined);
  if (fromPackage) return fromPackage;
  const onPath = findOnPath("opencode", env.PATH);
  if (onPath) return onPath;
  throw new JobError("setup", `The opencode binary was not found: none of the npm packages ${candidates.join(", ")} is installed, and there is no \`opencode\` on PATH.`, {
    nextStep: `Run \`npm install ${candidates[0] ?? "opencode-ai"}\` (or install opencode on PATH), or set OPENCODE_BIN to its path.`,
  });
}

/**
 * npm packages that may hold a binary for this machine, best first. On x64 without AVX2
 * the regular build dies with an illegal instruction, so only the baseline one fits.
 */
export function platformPackagesOf(platform: string, arch: string, cpuInfo: () => string): string[] {
  const name = `opencode-${platform}-${arch}`;
  if (arch !== "x64") return [name];
  if (platform === "linux" && !/\bavx2\b/.test(cpuInfo())) return [`${name}-baseline`];
  return [name, `${name}-baseline`];
}

function binaryInPackage(packageName: string): string | undefined {
  try {
    // The platform packages have no `exports`, so their package.json resolves as a plain file.
    const manifest = createRequire(import.meta.url).resolve(`${packageName}/package.json`);
    const binary = join(dirname(manifest), "bin", "opencode");
    return isExecutable(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

function findOnPath(command: string, path: string | undefined): string | undefined {
  return (path ?? "")
    .split(delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => join(dir, command))
    .find(isExecutable);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function readCpuInfo(): string {
  try {
    return readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    // No /proc (not Linux, or a locked-down container): assume a modern CPU and keep the baseline as fallback.
    return "avx2";
  }
}
