#!/usr/bin/env node
// The `running-agent` command. Plain JavaScript, so that an old Node gets one clear line
// instead of a syntax error from the TypeScript it cannot strip (type stripping without a
// flag came in Node 22.18).
import process from "node:process";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`running-agent: needs Node.js 22.18 or later (this is ${process.version})\n`);
  process.exit(2);
}

const { runFromCommandLine } = await import("../src/cli/main.ts");
await runFromCommandLine();
