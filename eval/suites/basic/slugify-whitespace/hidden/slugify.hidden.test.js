import { test } from "node:test";
import assert from "node:assert/strict";
import { slugify } from "./slugify.js";

test("collapses runs of spaces and punctuation into one hyphen", () => {
  assert.equal(slugify("  Hello,   World! "), "hello-world");
  assert.equal(slugify("Rock & Roll"), "rock-roll");
  assert.equal(slugify("Node.js 22 released"), "node-js-22-released");
});

test("never starts or ends with a hyphen", () => {
  assert.equal(slugify("--Edge case--"), "edge-case");
  assert.equal(slugify("already-a-slug"), "already-a-slug");
  assert.equal(slugify(""), "");
});
