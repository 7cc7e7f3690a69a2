import { describe, expect, it } from "vitest";
import { formatDuration } from "../src/duration.ts";

describe("formatDuration", () => {
  it("formats seconds and minutes", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(59_400)).toBe("59s");
    expect(formatDuration(61_000)).toBe("1m 1s");
    expect(formatDuration(-5)).toBe("0s");
  });
});
