/**
 * Building the page's DOM. Everything shown comes from the API, and much of it (task texts,
 * logs, step outputs) is written by people outside the team or by the agent: text goes in
 * as text nodes only, attributes through setAttribute, never markup: nothing in the
 * dashboard parses a string as HTML (test/api/dashboard.test.ts looks for the ways to).
 */

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {Child | Array<Child | Array<Child | Array<Child | Child[]>>>} Children lists of children, nested as `map` makes them
 * @typedef {Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>} Attributes
 */

/**
 * An HTML element: `attributes` are set as attributes (`class`, `href`, `data-*`, `aria-*`),
 * except `on<event>` functions, which become listeners; children are nodes or text.
 * @param {string} tag
 * @param {Attributes} [attributes]
 * @param {...Children} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  return fill(document.createElement(tag), attributes, children);
}

/**
 * An SVG element, as `h` builds HTML ones.
 * @param {string} tag
 * @param {Attributes} [attributes]
 * @param {...Children} children
 * @returns {SVGElement}
 */
export function s(tag, attributes = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attributes, children);
}

/**
 * @template {Element} E
 * @param {E} element
 * @param {Attributes} attributes
 * @param {Children[]} children
 * @returns {E}
 */
function fill(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...nodesOf(children));
  return element;
}

/**
 * @param {Children[]} children
 * @returns {Node[]}
 */
function nodesOf(children) {
  const flat = /** @type {Child[]} */ (children.flat(4));
  return flat.flatMap((child) => {
    if (child === null || child === undefined || child === false) return [];
    return typeof child === "string" || typeof child === "number" ? [document.createTextNode(String(child))] : [child];
  });
}

/**
 * Replace an element's children.
 * @param {Element} element
 * @param {...Children} children
 */
export function put(element, ...children) {
  element.replaceChildren(...nodesOf(children));
}

/**
 * A link's address when it is a web address, null otherwise: a `javascript:` URL in data
 * must never become a link.
 * @param {string | null | undefined} url
 * @returns {string | null}
 */
export function webUrl(url) {
  if (typeof url !== "string") return null;
  return /^https?:\/\//i.test(url) ? url : null;
}

/**
 * A link that opens outside the dashboard (a pull request on GitHub), or its text alone when
 * the address is not a web one.
 * @param {string | null | undefined} url
 * @param {string} text
 * @param {string} [className]
 */
export function externalLink(url, text, className) {
  const safe = webUrl(url);
  if (!safe) return h("span", { class: className }, text);
  return h("a", { href: safe, target: "_blank", rel: "noopener noreferrer", class: className }, text);
}

/**
 * A section's message in place of its content: loading, empty, not available, or an error.
 * @param {"loading" | "empty" | "unavailable" | "error"} kind
 * @param {string} text
 * @param {...Child} more
 */
export function notice(kind, text, ...more) {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : null }, h("p", {}, text), ...more);
}
