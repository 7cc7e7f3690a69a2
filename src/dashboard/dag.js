/**
 * A pipeline's steps as a graph: layered by `depends_on` (a step sits one layer after the
 * last of the steps it waits for), drawn as SVG, each step with its state and a link to its
 * job. Left to right where the width allows, top to bottom on a phone.
 */
import { s } from "./dom.js";
import { runStateOf } from "./format.js";

/**
 * @typedef {{ name: string, depends_on?: string[], task?: string }} StepLike
 * @typedef {{ layers: string[][], edges: Array<{ from: string, to: string }> }} Layout
 */

/**
 * The steps in layers; within a layer, ordered by where their upstream steps sit, so edges
 * cross less. Unknown dependencies are left out (the API refuses them anyway) and a cycle
 * cannot hang the page.
 * @param {StepLike[]} steps
 * @returns {Layout}
 */
export function layoutDag(steps) {
  const byName = new Map(steps.map((step) => [step.name, step]));
  /** @type {Map<string, number>} */
  const depth = new Map();
  /** @param {string} name @param {Set<string>} visiting @returns {number} */
  const depthOf = (name, visiting) => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name)) return 0;
    visiting.add(name);
    const upstream = (byName.get(name)?.depends_on ?? []).filter((dependency) => byName.has(dependency));
    const value = upstream.length === 0 ? 0 : 1 + Math.max(...upstream.map((dependency) => depthOf(dependency, visiting)));
    visiting.delete(name);
    depth.set(name, value);
    return value;
  };
  for (const step of steps) depthOf(step.name, new Set());
  /** @type {string[][]} */
  const layers = [];
  for (const step of steps) (layers[depth.get(step.name) ?? 0] ??= []).push(step.name);
  const compact = layers.filter((layer) => layer !== undefined);
  for (let index = 1; index < compact.length; index += 1) {
    const previous = compact[index - 1] ?? [];
    const position = (/** @type {string} */ name) => {
      const upstream = (byName.get(name)?.depends_on ?? []).map((dependency) => previous.indexOf(dependency)).filter((at) => at !== -1);
      return upstream.length === 0 ? Number.POSITIVE_INFINITY : upstream.reduce((sum, at) => sum + at, 0) / upstream.length;
    };
    compact[index] = [...(compact[index] ?? [])].sort((a, b) => position(a) - position(b));
  }
  const edges = steps.flatMap((step) => (step.depends_on ?? []).filter((dependency) => byName.has(dependency)).map((dependency) => ({ from: dependency, to: step.name })));
  return { layers: compact, edges };
}

const NODE = { width: 176, height: 58, gapX: 56, gapY: 18 };

/**
 * @param {Array<StepLike & { state?: string, job_id?: string | null, job?: { phase: string | null, iterations: number } | null }>} steps
 * @param {number} width the room there is, in pixels
 */
export function dagSvg(steps, width) {
  const { layers, edges } = layoutDag(steps);
  const widest = Math.max(1, ...layers.map((layer) => layer.length));
  const across = layers.length * NODE.width + (layers.length - 1) * NODE.gapX;
  const vertical = across + 4 > width;
  // 4 px of the width are the stroke's room at the edges.
  const nodeWidth = vertical ? Math.max(120, Math.min(NODE.width, Math.floor((width - 4 - (widest - 1) * NODE.gapY) / widest))) : NODE.width;
  /** @type {Map<string, { x: number, y: number }>} */
  const at = new Map();
  const span = (/** @type {number} */ size, /** @type {number} */ gap, /** @type {number} */ n) => n * size + (n - 1) * gap;
  const crossSize = vertical ? span(nodeWidth, NODE.gapY, widest) : span(NODE.height, NODE.gapY, widest);
  layers.forEach((layer, layerIndex) => {
    const offset = (crossSize - (vertical ? span(nodeWidth, NODE.gapY, layer.length) : span(NODE.height, NODE.gapY, layer.length))) / 2;
    layer.forEach((name, index) => {
      at.set(
        name,
        vertical
          ? { x: offset + index * (nodeWidth + NODE.gapY), y: layerIndex * (NODE.height + NODE.gapX * 0.6) }
          : { x: layerIndex * (NODE.width + NODE.gapX), y: offset + index * (NODE.height + NODE.gapY) },
      );
    });
  });
  const svgWidth = Math.ceil(vertical ? crossSize : across) + 4;
  const svgHeight = Math.ceil(vertical ? span(NODE.height, NODE.gapX * 0.6, layers.length) : crossSize) + 4;
  const svg = s("svg", { class: `dag${vertical ? " vertical" : ""}`, width: svgWidth, height: svgHeight, viewBox: `-2 -2 ${svgWidth} ${svgHeight}`, role: "img", "aria-label": "The pipeline's steps and what each waits for" });
  svg.append(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 8 8", refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, s("path", { d: "M0,0 L8,4 L0,8 z", class: "arrow-head" }))));
  for (const edge of edges) {
    const from = at.get(edge.from);
    const to = at.get(edge.to);
    if (!from || !to) continue;
    const d = vertical
      ? curve(from.x + nodeWidth / 2, from.y + NODE.height, to.x + nodeWidth / 2, to.y, true)
      : curve(from.x + NODE.width, from.y + NODE.height / 2, to.x, to.y + NODE.height / 2, false);
    svg.append(s("path", { class: "edge", d, "marker-end": "url(#arrow)" }));
  }
  for (const step of steps) {
    const place = at.get(step.name);
    if (!place) continue;
    // A pipeline's definition (a preview before its run) has no states: its steps say what they do.
    const state = step.state === undefined ? { label: firstWords(step.task ?? ""), tone: "plain" } : runStateOf(step.state);
    const sub = step.job?.phase && step.state === "running" ? `${state.label} · ${step.job.phase}${step.job.iterations > 0 && (step.job.phase === "build" || step.job.phase === "verify") ? ` ${step.job.iterations}` : ""}` : state.label;
    const node = s(
      "g",
      { class: `node tone-${state.tone}`, transform: `translate(${place.x},${place.y})`, "data-step": step.name },
      s("title", {}, `${step.name}: ${sub}`),
      s("rect", { class: "node-box", width: nodeWidth, height: NODE.height, rx: 8 }),
      s("rect", { class: "node-state", width: 5, height: NODE.height - 16, x: 8, y: 8, rx: 2 }),
      s("text", { class: "node-name", x: 22, y: 24 }, fit(step.name, nodeWidth - 30, 7.6)),
      s("text", { class: "node-sub", x: 22, y: 43 }, fit(sub, nodeWidth - 30, 6.6)),
    );
    svg.append(step.job_id ? s("a", { href: `#/jobs/${encodeURIComponent(step.job_id)}`, class: "node-link", "aria-label": `${step.name}: ${sub}, open its job` }, node) : node);
  }
  return svg;
}

/** A task's first line, for a step of a definition. @param {string} task */
const firstWords = (task) => task.trim().split("\n")[0] ?? "";

/**
 * @param {number} x1 @param {number} y1 @param {number} x2 @param {number} y2
 * @param {boolean} vertical
 */
function curve(x1, y1, x2, y2, vertical) {
  if (vertical) {
    const middle = (y1 + y2) / 2;
    return `M${x1},${y1} C${x1},${middle} ${x2},${middle} ${x2},${y2 - 1}`;
  }
  const middle = (x1 + x2) / 2;
  return `M${x1},${y1} C${middle},${y1} ${middle},${y2} ${x2 - 1},${y2}`;
}

/**
 * Text cut to about `room` pixels, at `perChar` pixels a character (SVG text does not wrap or clip).
 * @param {string} text @param {number} room @param {number} perChar
 */
function fit(text, room, perChar) {
  const most = Math.max(4, Math.floor(room / perChar));
  return text.length <= most ? text : `${text.slice(0, most - 1)}…`;
}
