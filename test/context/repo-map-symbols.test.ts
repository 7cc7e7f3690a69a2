import { describe, expect, it } from "vitest";
import { extractSymbols, type CodeSymbol } from "../../src/context/repo-map-symbols.ts";

const show = (symbols: CodeSymbol[]) => symbols.map((symbol) => `${symbol.kind} ${symbol.name}`);

describe("extractSymbols", () => {
  it("lists a TypeScript module's exports, not its helpers", () => {
    const source = [
      `import { x } from "./x.ts";`,
      `export interface Options {`,
      `  retries: number;`,
      `}`,
      `export type Mode = "a" | "b";`,
      `export async function runJob(options: Options): Promise<void> {}`,
      `export default class Worker {}`,
      `export abstract class Base {}`,
      `export const DEFAULT_RETRIES = 3;`,
      `export enum Color { Red }`,
      `export { helper as publicHelper, type Shape } from "./shape.ts";`,
      `function helper() {}`,
      `const internal = 1;`,
      `  export function nested() {}`,
    ].join("\n");
    expect(show(extractSymbols("ts", source))).toEqual([
      "interface Options",
      "type Mode",
      "fn runJob",
      "class Worker",
      "class Base",
      "const DEFAULT_RETRIES",
      "enum Color",
      "export publicHelper",
      "export Shape",
    ]);
  });

  it("falls back to top-level functions and classes in a script without exports", () => {
    const source = `const fs = require("fs");\nfunction main() {}\nclass Runner {}\nexports.start = main;\n`;
    expect(show(extractSymbols("ts", source))).toEqual(["const start"]);
    expect(show(extractSymbols("ts", `function main() {}\nasync function* stream() {}\nclass Runner {}\n`))).toEqual(["fn main", "fn stream", "class Runner"]);
  });

  it("lists Python's top-level definitions, public ones when there are any", () => {
    const source = `import os\n\nclass Parser:\n    def parse(self):\n        pass\n\nasync def fetch_all(urls):\n    pass\n\ndef _private():\n    pass\n`;
    expect(show(extractSymbols("python", source))).toEqual(["class Parser", "fn fetch_all"]);
    expect(show(extractSymbols("python", `def _only():\n    pass\n`))).toEqual(["fn _only"]);
  });

  it("lists Go's exported functions, methods and types", () => {
    const source = [
      `package server`,
      `type Server struct {`,
      `\taddr string`,
      `}`,
      `type Handler interface {}`,
      `type ID string`,
      `type List[T any] struct {}`,
      `func New(addr string) *Server { return nil }`,
      `func (s *Server) Start() error { return nil }`,
      `func (List[T]) Len() int { return 0 }`,
      `func helper() {}`,
      `func (s *Server) stop() {}`,
    ].join("\n");
    expect(show(extractSymbols("go", source))).toEqual(["struct Server", "interface Handler", "type ID", "struct List", "fn New", "fn Server.Start", "fn List.Len"]);
  });

  it("lists Rust's public items and impls", () => {
    const source = [
      `use std::fmt;`,
      `pub struct Config { pub name: String }`,
      `pub(crate) enum Mode { A }`,
      `pub trait Store {}`,
      `impl Config {`,
      `    pub fn new() -> Self { todo!() }`,
      `    fn private(&self) {}`,
      `}`,
      `impl<T: Into<String>> fmt::Display for Wrapper<T> {}`,
      `pub async unsafe fn launch() {}`,
      `fn main() {}`,
    ].join("\n");
    expect(show(extractSymbols("rust", source))).toEqual([
      "struct Config",
      "enum Mode",
      "trait Store",
      "impl Config",
      "fn new",
      "impl fmt::Display for Wrapper",
      "fn launch",
    ]);
  });

  it("lists Java's types and public methods", () => {
    const source = [
      `package com.acme;`,
      `public final class OrderService {`,
      `    public OrderService() {}`,
      `    public static List<Order> findAll(String query) { return null; }`,
      `    public <T> T convert(Object value) { return null; }`,
      `    private void hidden() {}`,
      `    public interface Listener {}`,
      `}`,
      `record Point(int x, int y) {}`,
    ].join("\n");
    expect(show(extractSymbols("java", source))).toEqual(["class OrderService", "fn findAll", "fn convert", "interface Listener", "class Point"]);
  });

  it("lists Kotlin's types and functions, not private ones", () => {
    const source = [
      `package com.acme`,
      `data class User(val name: String)`,
      `sealed interface Event`,
      `object Registry {`,
      `    fun register(user: User) {}`,
      `    private fun hidden() {}`,
      `}`,
      `suspend fun <T> List<T>.firstOrWait(): T = TODO()`,
      `internal class Cache`,
    ].join("\n");
    expect(show(extractSymbols("kotlin", source))).toEqual(["class User", "interface Event", "class Registry", "fn register", "fn firstOrWait"]);
  });

  it("lists Ruby's classes, modules and methods", () => {
    const source = `module Billing\n  class Invoice < Base\n    def self.create(attrs)\n    end\n\n    def paid?\n    end\n  end\nend\n`;
    expect(show(extractSymbols("ruby", source))).toEqual(["mod Billing", "class Invoice", "fn self.create", "fn paid?"]);
  });

  it("lists C and C++ function definitions and structs, not calls or declarations", () => {
    const source = [
      `#include <stdio.h>`,
      `struct point {`,
      `  int x;`,
      `};`,
      `struct forward;`,
      `typedef struct list {`,
      `class Widget : public Base {`,
      `int parse_args(int argc, char **argv);`,
      `static const char *name_of(int code) {`,
      `int main(int argc, char **argv)`,
      `{`,
      `  return parse_args(argc, argv);`,
      `}`,
      `void Widget::draw(Canvas &canvas) const {`,
      `std::vector<int> make_list(int n, int m) {`,
      `MODULE_INIT(foo);`,
      `if (x) {`,
    ].join("\n");
    expect(show(extractSymbols("c", source, "src/main.c"))).toEqual([
      "struct point",
      "struct list",
      "class Widget",
      "fn main",
      "fn Widget::draw",
      "fn make_list",
    ]);
  });

  it("lists a header's declarations", () => {
    const source = `#ifndef X_H\nstruct buffer {\nint buffer_append(struct buffer *b, const char *s);\nvoid buffer_free(struct buffer *b);\n#endif\n`;
    expect(show(extractSymbols("c", source, "include/buffer.h"))).toEqual(["struct buffer", "fn buffer_append", "fn buffer_free"]);
  });

  it("stays fast on hostile input: long lines and deep repetition", () => {
    const line = `${"a ".repeat(5000)}(`;
    const started = performance.now();
    for (const language of ["ts", "python", "go", "rust", "java", "kotlin", "ruby", "c"] as const) {
      extractSymbols(language, `${line}\n`.repeat(50), "x.c");
      extractSymbols(language, `public ${"<".repeat(20000)}\n`, "x.h");
    }
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
