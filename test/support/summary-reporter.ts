import type { Reporter, TestModule } from "vitest/node";

/**
 * One plain closing line, `Tests: N passed, N failed, N skipped`, after vitest's own
 * summary: the form CI tooling reads when it does not know vitest's. Before it, one line per
 * test skipped with a reason (a missing optional toolchain), so that a skip is never silent.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const notes: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") counts.passed++;
        else if (state === "failed") counts.failed++;
        else {
          counts.skipped++;
          const result = test.result();
          if (result.state === "skipped" && result.note) notes.push(`Skipped: ${test.fullName}: ${result.note}`);
        }
      }
      // A file that failed to load has no tests; count it, or a broken file would look green.
      if (module.state() === "failed" && [...module.children.allTests()].length === 0) counts.failed++;
    }
    if (notes.length > 0) process.stdout.write(`\n${notes.join("\n")}\n`);
    process.stdout.write(`\nTests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
