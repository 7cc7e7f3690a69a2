/**
 * The overview's charts, drawn as SVG by this code (no chart library: the page loads
 * nothing from elsewhere). Each chart is drawn for the pixel width it has, so text keeps
 * its size; the caller draws it again when that width changes.
 */
import { s } from "./dom.js";

/** @typedef {import("./types.js").Day} Day */
/**
 * @typedef {{ label: string, className: string, value: (day: Day) => number | null, dashed?: boolean }} Series
 * @typedef {{ width: number, height: number, series: Series[], format: (value: number) => string, max?: number, integer?: boolean, empty: string }} ChartOptions
 */

const MARGIN = { top: 10, right: 10, bottom: 24, left: 48 };
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * The last `count` days up to `today` (YYYY-MM-DD, UTC), each with the figures the API gave
 * for it or zeros: a day without jobs is a day on the chart too.
 * @param {Day[]} days
 * @param {number} count
 * @param {string} today
 * @returns {Day[]}
 */
export function fillDays(days, count, today) {
  const byDate = new Map(days.map((day) => [day.date, day]));
  const last = days.reduce((latest, day) => (day.date > latest ? day.date : latest), today);
  const end = Date.parse(`${last}T00:00:00Z`);
  return Array.from({ length: count }, (_, index) => {
    const date = new Date(end - (count - 1 - index) * 86_400_000).toISOString().slice(0, 10);
    return byDate.get(date) ?? { date, completed: 0, completed_failing_checks: 0, failed: 0, cancelled: 0, timed_out: 0, cost: 0, duration_p50_s: null, duration_p90_s: null, merged: 0, closed_unmerged: 0 };
  });
}

/**
 * The merge rate of the `window` days up to each day (merged over merged and closed
 * unmerged): a day's own few decisions swing between 0 and 100 %. Null while none was decided.
 * @param {Day[]} days
 * @param {number} window
 * @returns {Array<number | null>}
 */
export function rollingMergeRate(days, window) {
  return days.map((_, index) => {
    const span = days.slice(Math.max(0, index - window + 1), index + 1);
    const merged = span.reduce((sum, day) => sum + day.merged, 0);
    const decided = merged + span.reduce((sum, day) => sum + day.closed_unmerged, 0);
    return decided === 0 ? null : merged / decided;
  });
}

/**
 * A round top for the y axis and its step, so the ticks read 0, 5, 10, 15, 20.
 * @param {number} max
 * @param {boolean} integer counts have no half steps
 */
export function niceScale(max, integer) {
  if (!(max > 0)) return { top: integer ? 4 : 1, step: integer ? 1 : 0.25 };
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normal = raw / magnitude;
  let step = (normal <= 1 ? 1 : normal <= 2 ? 2 : normal <= 2.5 ? 2.5 : normal <= 5 ? 5 : 10) * magnitude;
  if (integer) step = Math.max(1, Math.ceil(step));
  return { top: step * Math.ceil(max / step - 1e-9), step };
}

/** "2026-11-03" → "Nov 3". @param {string} date */
export const shortDate = (date) => `${MONTHS[Number(date.slice(5, 7)) - 1] ?? ""} ${Number(date.slice(8, 10))}`;

/**
 * Bars per day, the series stacked (jobs by outcome) or alone (cost).
 * @param {Day[]} days
 * @param {ChartOptions} options
 */
export function barChart(days, options) {
  const totals = days.map((day) => options.series.reduce((sum, series) => sum + (series.value(day) ?? 0), 0));
  const frame = frameOf(days, options, Math.max(0, ...totals));
  const band = frame.plotWidth / Math.max(1, days.length);
  const barWidth = Math.max(2, Math.min(22, band * 0.72));
  days.forEach((day, index) => {
    const x = frame.left + index * band + (band - barWidth) / 2;
    let base = 0;
    const group = s("g", { class: "day" }, s("title", {}, `${day.date}: ${options.series.map((series) => `${series.label} ${options.format(series.value(day) ?? 0)}`).join(", ")}`));
    // A transparent column the width of the day, so the tooltip answers anywhere above the date.
    group.append(s("rect", { class: "hit", x: frame.left + index * band, y: frame.top, width: band, height: frame.plotHeight }));
    for (const series of options.series) {
      const value = series.value(day) ?? 0;
      if (value <= 0) continue;
      const y0 = frame.y(base);
      const y1 = frame.y(base + value);
      group.append(s("rect", { class: `bar ${series.className}`, x: round(x), y: round(y1), width: round(barWidth), height: round(Math.max(1, y0 - y1)) }));
      base += value;
    }
    frame.svg.append(group);
  });
  if (totals.every((total) => total === 0)) frame.say(options.empty);
  return frame.svg;
}

/**
 * Lines per day (durations, the merge rate); a day without a value breaks the line.
 * @param {Day[]} days
 * @param {ChartOptions} options
 */
export function lineChart(days, options) {
  const values = options.series.flatMap((series) => days.map((day) => series.value(day) ?? 0));
  const frame = frameOf(days, options, Math.max(0, ...values));
  const band = frame.plotWidth / Math.max(1, days.length);
  const xOf = (/** @type {number} */ index) => frame.left + index * band + band / 2;
  for (const series of options.series) {
    const segments = [];
    let current = "";
    days.forEach((day, index) => {
      const value = series.value(day);
      if (value === null) {
        if (current) segments.push(current);
        current = "";
        return;
      }
      current += `${current ? "L" : "M"}${round(xOf(index))},${round(frame.y(value))}`;
    });
    if (current) segments.push(current);
    for (const path of segments) frame.svg.append(s("path", { class: `line ${series.className}${series.dashed ? " dashed" : ""}`, d: path }));
    days.forEach((day, index) => {
      const value = series.value(day);
      if (value === null) return;
      frame.svg.append(s("circle", { class: `point ${series.className}`, cx: round(xOf(index)), cy: round(frame.y(value)), r: 2.5 }, s("title", {}, `${day.date}: ${series.label} ${options.format(value)}`)));
    });
  }
  if (options.series.every((series) => days.every((day) => series.value(day) === null))) frame.say(options.empty);
  return frame.svg;
}

/**
 * The chart's SVG with its grid, y ticks and a date every week.
 * @param {Day[]} days
 * @param {ChartOptions} options
 * @param {number} dataMax
 */
function frameOf(days, options, dataMax) {
  const { top, step } = options.max !== undefined ? { top: options.max, step: options.max / 4 } : niceScale(dataMax, options.integer ?? false);
  const width = Math.max(160, Math.floor(options.width));
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = options.height - MARGIN.top - MARGIN.bottom;
  const y = (/** @type {number} */ value) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const svg = s("svg", { class: "chart", width, height: options.height, viewBox: `0 0 ${width} ${options.height}`, role: "img" });
  for (let tick = 0; tick <= top + 1e-9; tick += step) {
    svg.append(s("line", { class: "grid", x1: MARGIN.left, x2: width - MARGIN.right, y1: round(y(tick)), y2: round(y(tick)) }));
    svg.append(s("text", { class: "tick", x: MARGIN.left - 6, y: round(y(tick)) + 4, "text-anchor": "end" }, options.format(tick)));
  }
  const band = plotWidth / Math.max(1, days.length);
  // A label every week, fewer when the chart is narrow (a phone).
  const every = band * 7 < 44 ? 14 : 7;
  days.forEach((day, index) => {
    if ((days.length - 1 - index) % every !== 0) return;
    svg.append(s("text", { class: "tick", x: round(MARGIN.left + index * band + band / 2), y: options.height - 6, "text-anchor": "middle" }, shortDate(day.date)));
  });
  /** A note across the middle of a chart with nothing to draw. @param {string} text */
  const say = (text) => svg.append(s("text", { class: "chart-empty", x: round(MARGIN.left + plotWidth / 2), y: round(MARGIN.top + plotHeight / 2), "text-anchor": "middle" }, text));
  return { svg, y, say, left: MARGIN.left, top: MARGIN.top, plotWidth, plotHeight };
}

/** @param {number} value */
const round = (value) => Math.round(value * 10) / 10;
