/**
 * The overview's four charts of the last 30 days (`GET /api/stats/daily`): jobs by outcome,
 * cost, durations, and the merge rate over a week.
 */
import { barChart, lineChart, rollingMergeRate } from "./charts.js";
import { h, notice, put } from "./dom.js";
import { shortDuration, usd } from "./format.js";

/** @typedef {import("./types.js").Day} Day */

/**
 * The four charts of the last 30 days; a server without daily figures says so in their place.
 * @param {HTMLElement} container
 * @param {Day[] | null | undefined} days
 */
export function renderCharts(container, days) {
  if (days === undefined) return;
  if (days === null) {
    put(container, notice("unavailable", "Daily charts are not available from this server yet (it has no /api/stats/daily)."));
    return;
  }
  const cards = [
    chartCard("Jobs per day", "by outcome", [
      ["ok", "completed"],
      ["warn", "checks failing"],
      ["danger", "failed"],
      ["timeout", "timed out"],
      ["muted", "cancelled"],
    ]),
    chartCard("Cost per day", "model spend, USD", [["accent", "cost"]]),
    chartCard("Job duration", "minutes from start to end", [
      ["accent", "median (p50)"],
      ["accent dashed", "p90"],
    ]),
    chartCard("Merge rate", "merged of the pull requests decided, over 7 days", [["ok", "merge rate, 7-day"]]),
  ];
  put(container, cards.map((card) => card.element));
  const width = cards[0]?.plot.clientWidth ?? 300;
  const height = 180;
  const minutes = (/** @type {number | null} */ seconds) => (seconds === null ? null : seconds / 60);
  const [jobs, cost, time, merges] = cards.map((card) => card.plot);
  const rolling = rollingMergeRate(days, 7);
  const rates = new Map(days.map((day, index) => [day.date, rolling[index] ?? null]));
  jobs?.append(
    barChart(days, {
      width,
      height,
      integer: true,
      empty: "No job ended in these 30 days",
      format: (value) => String(Math.round(value)),
      series: [
        // Delivered with checks that still fail is not a success: a colour of its own.
        { label: "completed", className: "tone-ok", value: (day) => day.completed - (day.completed_failing_checks ?? 0) },
        { label: "checks failing", className: "tone-warn", value: (day) => day.completed_failing_checks ?? 0 },
        { label: "failed", className: "tone-danger", value: (day) => day.failed },
        { label: "timed out", className: "tone-timeout", value: (day) => day.timed_out },
        { label: "cancelled", className: "tone-muted", value: (day) => day.cancelled },
      ],
    }),
  );
  cost?.append(barChart(days, { width, height, format: usd, empty: "Nothing spent in these 30 days", series: [{ label: "cost", className: "tone-accent", value: (day) => day.cost }] }));
  time?.append(
    lineChart(days, {
      width,
      height,
      empty: "No job ended in these 30 days",
      format: (value) => shortDuration(value * 60_000),
      series: [
        { label: "p50", className: "tone-accent", value: (day) => minutes(day.duration_p50_s) },
        { label: "p90", className: "tone-accent", value: (day) => minutes(day.duration_p90_s), dashed: true },
      ],
    }),
  );
  merges?.append(
    lineChart(days, {
      width,
      height,
      max: 1,
      empty: "No pull request decided in these 30 days",
      format: (value) => `${Math.round(value * 100)}%`,
      series: [{ label: "merge rate, 7-day", className: "tone-ok", value: (day) => rates.get(day.date) ?? null }],
    }),
  );
}

/**
 * @param {string} title
 * @param {string} caption
 * @param {Array<[string, string]>} legend tone and label of each series
 */
function chartCard(title, caption, legend) {
  const plot = h("div", { class: "chart-plot" });
  const element = h(
    "figure",
    { class: "card chart-card" },
    h("figcaption", {}, h("h2", {}, title), h("span", { class: "muted" }, caption)),
    plot,
    h("ul", { class: "legend" }, legend.map(([tone, label]) => h("li", {}, h("span", { class: `swatch tone-${tone.replace(" ", " swatch-")}`, "aria-hidden": "true" }), label))),
  );
  return { element, plot };
}
