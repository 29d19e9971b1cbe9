// The lead dashboard's charts: horizontal bars (escalation reasons, top intents,
// outcomes), time to claim by priority against its target, and the share of
// conversations with a frustration peak by day.
//
// Pure, as chart.js: each function returns a plain tree of SVG nodes ({tag, attrs, text,
// children}) or null when there is nothing to draw; the page turns it into elements with
// chart.js's `toElement` (text as textContent), tests read it with `toMarkup`.
import { SVG_NS } from "./chart.js";
import { count, percent, seconds, shortDay } from "./measures.js";

export const WIDTH = 400;
const VALUE_SPACE = 92; // room right of the longest bar for its number
const MAX_LABEL = 58; // characters of a bar's label; the whole label is its tooltip

const node = (tag, attrs, text, children) => ({
  tag,
  attrs: attrs || {},
  text: text === undefined || text === null ? null : String(text),
  children: children || [],
});

const svg = (height, description, children) =>
  node(
    "svg",
    {
      xmlns: SVG_NS,
      viewBox: `0 0 ${WIDTH} ${height}`,
      class: "chart chart--bars",
      role: "img",
      "aria-label": description,
    },
    null,
    [node("title", {}, description), ...children]
  );

/** "A very long label…" when over `limit` characters. */
export function clip(text, limit = MAX_LABEL) {
  const s = String(text === undefined || text === null ? "" : text);
  return s.length > limit ? s.slice(0, limit - 1).trimEnd() + "…" : s;
}

// --- Scales -----------------------------------------------------------------------------
/** The smallest of 1, 2, 2.5, 5 × 10^k that is at least `value` (1 for nothing). */
export function niceMax(value) {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= value - 1e-9) return step * power;
  }
  return 10 * power;
}

const SECOND_STEPS = [10, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** A round duration at least `value` seconds (for a time axis): 45 → 60, 200 → 300. */
export function niceSeconds(value) {
  if (!(value > 0) || !Number.isFinite(value)) return 60;
  const found = SECOND_STEPS.find((s) => s >= value);
  return found || Math.ceil(value / 86400) * 86400;
}

/** `n + 1` evenly spaced ticks from 0 to `max`. */
export function ticks(max, n = 4) {
  return Array.from({ length: n + 1 }, (_, i) => (max * i) / n);
}

/** How many steps divide a `niceMax` into round ones: 0.5 → 5 (0.1 each), 1 → 4. */
export function stepsFor(max) {
  if (!(max > 0)) return 4;
  const leading = Math.round((max / Math.pow(10, Math.floor(Math.log10(max)))) * 10) / 10;
  return leading === 2 || max === 1 ? 4 : 5;
}

const ROUND_SECONDS = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 5400, 7200, 10800, 21600, 43200, 86400];

/** How many steps divide a `niceSeconds` into round durations: 300 → 5 (1 min each). */
export function secondSteps(max) {
  return [4, 5, 3, 6].find((n) => ROUND_SECONDS.includes(max / n)) || 4;
}

/** Position of `value` on [0, max] mapped to [from, to], clamped. */
export function scale(value, max, from, to) {
  const v = Math.min(Math.max(Number(value) || 0, 0), max > 0 ? max : 1);
  return from + (v / (max > 0 ? max : 1)) * (to - from);
}

// --- Horizontal bars ---------------------------------------------------------------------
/**
 * One bar per row, its label above it and its number after it.
 * @param {Array<{label: string, value: number, text?: string, title?: string}>} rows
 * @param {{description: string, format?: (v: number) => string, max?: number, kind?: string}} options
 */
export function barChart(rows, options) {
  const items = (Array.isArray(rows) ? rows : []).filter((r) => r && typeof r.value === "number");
  if (!items.length) return null;
  const o = options || {};
  const format = o.format || count;
  // No axis to read: the longest bar spans the width.
  const max = o.max || Math.max(...items.map((r) => r.value)) || 1;
  const row = 34;
  const top = 4;
  const right = WIDTH - VALUE_SPACE;
  const children = [];
  items.forEach((r, i) => {
    const y = top + i * row;
    const width = Math.max(r.value > 0 ? 2 : 0, scale(r.value, max, 0, right));
    const text = r.text || format(r.value);
    const title = r.title || `${r.label}: ${text}`;
    children.push(
      node("g", { class: "bar" + (o.kind ? " bar--" + o.kind : "") }, null, [
        node("title", {}, title),
        node("text", { x: 0, y: y + 11, class: "bar__label" }, clip(r.label)),
        node("rect", { x: 0, y: y + 15, width: width.toFixed(1), height: 12, rx: 2, class: "bar__rect" }),
        node("text", { x: (width + 6).toFixed(1), y: y + 25, class: "bar__value" }, text),
      ])
    );
  });
  return svg(top + items.length * row + 2, o.description || "Bar chart", children);
}

// --- Time to claim by priority -----------------------------------------------------------
export const PRIORITY_ORDER = ["urgent", "high", "normal"];
const PRIORITY_NAMES = { urgent: "Urgent", high: "High", normal: "Normal" };

/** The priorities of `byPriority` in queue order (unknown ones after, by name). */
export function priorities(byPriority) {
  const keys = Object.keys(byPriority || {});
  const rank = (k) => (PRIORITY_ORDER.includes(k) ? PRIORITY_ORDER.indexOf(k) : PRIORITY_ORDER.length);
  return keys.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Time to claim in words, one sentence per priority (the chart's accessible name). */
export function describeClaims(byPriority) {
  const keys = priorities(byPriority);
  if (!keys.length) return "No conversation was claimed in this range.";
  return keys
    .map((k) => {
      const p = byPriority[k] || {};
      const within = p.within_target_rate === null || p.within_target_rate === undefined
        ? ""
        : `, ${percent(p.within_target_rate)} within the target`;
      const target = p.target_seconds ? ` against a target of ${seconds(p.target_seconds)}` : "";
      return (
        `${PRIORITY_NAMES[k] || k}: ${count(p.claims)} claimed, median ${seconds(p.median_seconds)}, ` +
        `90th percentile ${seconds(p.p90_seconds)}${target}${within}.`
      );
    })
    .join(" ");
}

/** Median and 90th-percentile bars per priority, with the priority's target as a mark. */
export function claimChart(byPriority) {
  const keys = priorities(byPriority);
  if (!keys.length) return null;
  const values = [];
  keys.forEach((k) => {
    const p = byPriority[k] || {};
    [p.median_seconds, p.p90_seconds, p.target_seconds].forEach((v) => typeof v === "number" && values.push(v));
  });
  const max = niceSeconds(Math.max(1, ...values));
  const left = 0;
  const right = WIDTH - 60;
  const legendHeight = 22;
  const group = 62;
  const x = (v) => scale(v, max, left, right);
  const children = [];

  // Legend.
  const legend = [
    ["bar__rect bar__rect--median", "Median"],
    ["bar__rect bar__rect--p90", "90th percentile"],
  ];
  legend.forEach(([cls, caption], i) => {
    const lx = i * 120;
    children.push(node("rect", { x: lx, y: 4, width: 14, height: 10, class: cls }));
    children.push(node("text", { x: lx + 19, y: 13, class: "chart__legend-text" }, caption));
  });
  children.push(node("line", { x1: 250, x2: 250, y1: 2, y2: 16, class: "bar__target" }));
  children.push(node("text", { x: 256, y: 13, class: "chart__legend-text" }, "Target"));

  keys.forEach((k, i) => {
    const p = byPriority[k] || {};
    const y = legendHeight + 6 + i * group;
    const head =
      `${PRIORITY_NAMES[k] || k} · ${count(p.claims)} claimed` +
      (typeof p.within_target_rate === "number" ? ` · ${percent(p.within_target_rate)} within target` : "");
    const parts = [node("text", { x: 0, y: y + 11, class: "bar__label" }, head)];
    [
      ["median", p.median_seconds, "median"],
      ["p90", p.p90_seconds, "90th percentile"],
    ].forEach(([key, value, words], j) => {
      if (typeof value !== "number") return;
      const by = y + 16 + j * 16;
      const over = typeof p.target_seconds === "number" && value > p.target_seconds;
      parts.push(
        node("rect", {
          x: left,
          y: by,
          width: Math.max(2, x(value) - left).toFixed(1),
          height: 12,
          rx: 2,
          class: `bar__rect bar__rect--${key}` + (over ? " bar__rect--over" : ""),
        }, null, [node("title", {}, `${PRIORITY_NAMES[k] || k}, ${words}: ${seconds(value)}`)]),
        node("text", { x: (x(value) + 5).toFixed(1), y: by + 10, class: "bar__value" }, seconds(value))
      );
    });
    if (typeof p.target_seconds === "number") {
      const tx = x(p.target_seconds).toFixed(1);
      parts.push(
        node("line", { x1: tx, x2: tx, y1: y + 13, y2: y + 50, class: "bar__target" }, null, [
          node("title", {}, `Target: ${seconds(p.target_seconds)}`),
        ])
      );
    }
    children.push(node("g", { class: "claims claims--" + k }, null, parts));
  });

  // The time axis.
  const axisY = legendHeight + 6 + keys.length * group + 4;
  children.push(node("line", { x1: left, x2: right, y1: axisY, y2: axisY, class: "chart__axis" }));
  ticks(max, secondSteps(max)).forEach((t, i) => {
    const tx = x(t);
    children.push(node("line", { x1: tx, x2: tx, y1: axisY, y2: axisY + 4, class: "chart__axis" }));
    children.push(
      node("text", { x: tx, y: axisY + 16, class: "chart__tick", "text-anchor": i === 0 ? "start" : "middle" }, seconds(t))
    );
  });
  return svg(axisY + 22, "Time to claim by priority. " + describeClaims(byPriority), children);
}

// --- Frustration peaks by day ------------------------------------------------------------
/**
 * One entry per day of the range (`days`, "YYYY-MM-DD"), with the API's figures for the
 * days that had conversations and nulls for the others.
 */
export function fillDays(byDay, days) {
  const known = new Map((Array.isArray(byDay) ? byDay : []).map((d) => [d.day, d]));
  return days.map((day) => {
    const d = known.get(day);
    return d
      ? { day, conversations: d.conversations, rate: d.frustration_peak_rate }
      : { day, conversations: 0, rate: null };
  });
}

/** The days in words (the chart's accessible name). */
export function describeDays(days) {
  const active = days.filter((d) => d.conversations > 0);
  if (!active.length) return "No conversations in this range.";
  const total = active.reduce((n, d) => n + d.conversations, 0);
  const peaks = active.reduce((n, d) => n + Math.round((d.rate || 0) * d.conversations), 0);
  const worst = active.reduce((best, d) => ((d.rate || 0) > (best.rate || 0) ? d : best), active[0]);
  return (
    `Share of conversations with a frustration peak of 0.8 or more, per day, over ${days.length} days: ` +
    `${count(peaks)} of ${count(total)} conversations (${percent(total ? peaks / total : null)}). ` +
    `Highest on ${shortDay(worst.day)}: ${percent(worst.rate)} of ${count(worst.conversations)}.`
  );
}

/** A column per day: the share of that day's conversations with a frustration peak. */
export function dayChart(days) {
  if (!Array.isArray(days) || !days.length || !days.some((d) => d.conversations > 0)) return null;
  const height = 170;
  const plot = { left: 38, right: WIDTH - 6, top: 10, bottom: height - 26 };
  const max = Math.min(1, niceMax(Math.max(0.1, ...days.map((d) => d.rate || 0))));
  const slot = (plot.right - plot.left) / days.length;
  const barWidth = Math.max(1, Math.min(22, slot * 0.7));
  const y = (v) => scale(v, max, plot.bottom, plot.top);
  const children = [];
  ticks(max, stepsFor(max)).forEach((t) => {
    children.push(node("line", { x1: plot.left, x2: plot.right, y1: y(t).toFixed(1), y2: y(t).toFixed(1), class: t ? "chart__grid" : "chart__axis" }));
    children.push(node("text", { x: plot.left - 5, y: (y(t) + 4).toFixed(1), class: "chart__tick", "text-anchor": "end" }, percent(t)));
  });
  const every = Math.ceil(days.length / 6); // at most about six dates under the axis
  days.forEach((d, i) => {
    const cx = plot.left + slot * (i + 0.5);
    if (d.conversations > 0) {
      const top = y(d.rate || 0);
      const peaks = Math.round((d.rate || 0) * d.conversations);
      children.push(
        node("rect", {
          x: (cx - barWidth / 2).toFixed(1),
          y: Math.min(top, plot.bottom - 1).toFixed(1),
          width: barWidth.toFixed(1),
          height: Math.max(1, plot.bottom - top).toFixed(1),
          class: "day" + ((d.rate || 0) > 0 ? "" : " day--none"),
        }, null, [
          node("title", {}, `${shortDay(d.day)}: ${percent(d.rate)} — ${count(peaks)} of ${count(d.conversations)} conversations`),
        ])
      );
    }
    const last = i === days.length - 1;
    // Every `every` days and the last; a date too close to the last one is left out.
    if ((i % every === 0 && (i === 0 || days.length - 1 - i >= every)) || last) {
      // The last date ends at the plot's edge, so it is never cut off.
      const at = last && days.length > 1 ? { x: plot.right, anchor: "end" } : { x: cx.toFixed(1), anchor: "middle" };
      children.push(node("text", { x: at.x, y: plot.bottom + 16, class: "chart__tick", "text-anchor": at.anchor }, shortDay(d.day)));
    }
  });
  return svg(height, describeDays(days), children);
}
