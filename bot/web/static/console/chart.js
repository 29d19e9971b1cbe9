// The emotion chart: frustration and urgency per customer turn, with the routing
// thresholds the server runs with (GET /api/console/settings).
//
// Pure: `emotionChart(points, thresholds)` returns a plain tree of SVG nodes
// ({tag, attrs, text, children}); nothing here reads the page or any global. The page
// turns the tree into elements with `toElement(tree, document)` (createElementNS, text as
// textContent); `toMarkup(tree)` writes it as escaped SVG markup (tests, under node).
//
//   const tree = emotionChart(chartPoints(timeline, messages), { escalate_at: 0.8, urgent_at: 0.8 });
//   container.replaceChildren(tree ? toElement(tree, document) : emptyNote);

export const SVG_NS = "http://www.w3.org/2000/svg";

// Geometry of the drawing, in viewBox units.
export const WIDTH = 460;
export const HEIGHT = 230;
export const PLOT = { left: 40, right: WIDTH - 16, top: 36, bottom: HEIGHT - 44 };
const LEGEND_CHAR_WIDTH = 6.6; // estimate per character until the page measures the text
const SERIES = [
  ["frustration", "Frustration"],
  ["urgency", "Urgency"],
];

const node = (tag, attrs, text, children) => ({
  tag,
  attrs: attrs || {},
  text: text === undefined || text === null ? null : String(text),
  children: children || [],
});

/**
 * The chart's points: the scores before the handoff (`timeline`, from the handoff
 * summary) followed by those of customer messages written while waiting (`during`).
 * @param {Array<{turn?: number, frustration?: number, urgency?: number}>} timeline
 * @param {Array<{sender: string, emotion?: object}>} messages
 * @returns {Array<{turn: number, frustration: number, urgency: number, during: boolean}>}
 */
export function chartPoints(timeline, messages) {
  const points = [];
  (Array.isArray(timeline) ? timeline : []).forEach((p, i) => {
    points.push({
      turn: Number(p && p.turn) || i + 1,
      frustration: Number(p && p.frustration) || 0,
      urgency: Number(p && p.urgency) || 0,
      during: false,
    });
  });
  let turn = points.reduce((most, p) => Math.max(most, p.turn), 0);
  (Array.isArray(messages) ? messages : []).forEach((m) => {
    const e = m && m.sender === "customer" ? m.emotion : null;
    if (!e || (typeof e.frustration !== "number" && typeof e.urgency !== "number")) return;
    turn += 1;
    points.push({ turn, frustration: Number(e.frustration) || 0, urgency: Number(e.urgency) || 0, during: true });
  });
  return points;
}

function checkThresholds(thresholds) {
  const { escalate_at: escalateAt, urgent_at: urgentAt } = thresholds || {};
  [escalateAt, urgentAt].forEach((value) => {
    if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
      throw new TypeError(
        `thresholds must be {escalate_at, urgent_at} between 0 and 1 (from /api/console/settings); got ${JSON.stringify(thresholds)}`
      );
    }
  });
  return { escalateAt, urgentAt };
}

/** Whether a turn's scores reach a routing threshold (frustration or urgency). */
export function reachesThreshold(scores, thresholds) {
  const { escalateAt, urgentAt } = checkThresholds(thresholds);
  return (
    (typeof scores.frustration === "number" && scores.frustration >= escalateAt) ||
    (typeof scores.urgency === "number" && scores.urgency >= urgentAt)
  );
}

/** The chart in words: the SVG's accessible name and title. */
export function describeChart(points, thresholds) {
  const { escalateAt, urgentAt } = checkThresholds(thresholds);
  if (!points.length) return "No emotion scores for this conversation yet.";
  const last = points[points.length - 1];
  const peak = points.reduce((best, p) => (p.frustration > best.frustration ? p : best), points[0]);
  const over = points.filter((p) => reachesThreshold(p, thresholds)).length;
  const during = points.filter((p) => p.during).length;
  const threshold =
    escalateAt === urgentAt
      ? `the escalation threshold of ${escalateAt}`
      : `the escalation threshold (frustration ${escalateAt}, urgency ${urgentAt})`;
  return (
    `Frustration and urgency over ${points.length} customer ${points.length === 1 ? "turn" : "turns"}` +
    (during ? ` (${during} while waiting for a person)` : "") +
    `, on a scale from 0 to 1. Latest turn ${last.turn}: frustration ${last.frustration.toFixed(2)}, ` +
    `urgency ${last.urgency.toFixed(2)}. Peak frustration ${peak.frustration.toFixed(2)} at turn ${peak.turn}. ` +
    `${over} ${over === 1 ? "turn reaches" : "turns reach"} ${threshold}.`
  );
}

/** The y coordinate of a score (0 at the bottom of the plot, 1 at its top). */
export function yOf(value) {
  const { top, bottom } = PLOT;
  return bottom - Math.min(1, Math.max(0, value)) * (bottom - top);
}

/**
 * The chart as a tree of SVG nodes, or null when there are no points.
 * @param {ReturnType<typeof chartPoints>} points
 * @param {{escalate_at: number, urgent_at: number}} thresholds
 */
export function emotionChart(points, thresholds) {
  const { escalateAt, urgentAt } = checkThresholds(thresholds);
  if (!Array.isArray(points) || !points.length) return null;
  const { left, right, top, bottom } = PLOT;
  const first = points[0].turn;
  const lastTurn = points[points.length - 1].turn;
  const span = Math.max(1, lastTurn - first);
  const x = (turn) => (lastTurn === first ? (left + right) / 2 : left + ((turn - first) / span) * (right - left));
  const y = yOf;
  const description = describeChart(points, thresholds);

  const children = [node("title", {}, description)];
  const line = (x1, y1, x2, y2, className) => children.push(node("line", { x1, y1, x2, y2, class: className }));
  const label = (tx, ty, className, text, anchor) =>
    children.push(node("text", { x: tx, y: ty, class: className, "text-anchor": anchor || "start" }, text));

  // Axes and grid.
  [0, 0.25, 0.5, 0.75, 1].forEach((v) => {
    line(left, y(v), right, y(v), v === 0 ? "chart__axis" : "chart__grid");
    label(left - 6, y(v) + 4, "chart__tick", v === 0 || v === 1 ? String(v) : v.toFixed(2).replace(/^0/, ""), "end");
  });
  line(left, top, left, bottom, "chart__axis");
  const every = Math.ceil(points.length / 12); // at most a dozen turn numbers
  points.forEach((p, i) => {
    if (i % every === 0 || i === points.length - 1) label(x(p.turn), bottom + 16, "chart__tick", p.turn, "middle");
  });
  label((left + right) / 2, bottom + 34, "chart__axis-title", "Customer turn", "middle");

  // When the conversation went to a person.
  const firstDuring = points.find((p) => p.during);
  const before = points.filter((p) => !p.during);
  if (firstDuring && before.length) {
    const hx = (x(before[before.length - 1].turn) + x(firstDuring.turn)) / 2;
    line(hx, top, hx, bottom, "chart__handoff");
    label(hx + 4, bottom - 6, "chart__note", "handed off");
  }

  // The thresholds: one line when frustration and urgency escalate at the same score.
  line(left, y(escalateAt), right, y(escalateAt), "chart__threshold");
  label(left + 6, y(escalateAt) - 5, "chart__note chart__note--threshold", "escalation threshold");
  if (urgentAt !== escalateAt) {
    line(left, y(urgentAt), right, y(urgentAt), "chart__threshold chart__threshold--urgency");
    label(right - 6, y(urgentAt) - 5, "chart__note chart__note--threshold", "urgency threshold", "end");
  }

  SERIES.forEach(([key, name]) => {
    const path = points.map((p) => `${x(p.turn).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ");
    if (points.length > 1) children.push(node("polyline", { points: path, class: `chart__line chart__line--${key}` }));
    points.forEach((p) => {
      const when = `Turn ${p.turn}` + (p.during ? " (while waiting)" : "");
      children.push(
        node(
          "circle",
          {
            cx: x(p.turn).toFixed(1),
            cy: y(p[key]).toFixed(1),
            r: p.during ? 4.5 : 3.5,
            class: `chart__dot chart__dot--${key}` + (p.during ? " chart__dot--during" : ""),
          },
          null,
          [node("title", {}, `${when}: ${name.toLowerCase()} ${p[key].toFixed(2)}`)]
        )
      );
    });
  });

  // Legend: one group per entry; the page re-spaces them by the width each label takes.
  const entries = [];
  const entry = (caption, ...marks) =>
    entries.push(node("g", {}, null, [...marks, node("text", { x: 22, y: 4, class: "chart__legend-text" }, caption)]));
  SERIES.forEach(([key, caption]) => {
    entry(
      caption,
      node("line", { x1: 0, x2: 18, y1: 0, y2: 0, class: `chart__line chart__line--${key}` }),
      node("circle", { cx: 9, cy: 0, r: 3, class: `chart__dot chart__dot--${key}` })
    );
  });
  // One entry even with two threshold lines: each line is labelled on the plot, and a
  // fifth entry would not fit the width.
  entry("Threshold", node("line", { x1: 0, x2: 18, y1: 0, y2: 0, class: "chart__threshold" }));
  if (firstDuring) {
    const ring = "chart__dot chart__dot--frustration chart__dot--during";
    entry("While waiting", node("circle", { cx: 9, cy: 0, r: 4, class: ring }));
  }
  layoutLegend(entries, (group) => group.children[group.children.length - 1].text.length * LEGEND_CHAR_WIDTH);
  children.push(node("g", { class: "chart__legend", transform: `translate(${left},14)` }, null, entries));

  return node(
    "svg",
    { xmlns: SVG_NS, viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart", role: "img", "aria-label": description },
    null,
    children
  );
}

/**
 * Space legend entries side by side. `groups` are tree nodes or SVG elements (anything
 * with setAttribute, or an `attrs` object); `width(group)` measures its caption.
 */
export function layoutLegend(groups, width) {
  let lx = 0;
  groups.forEach((group) => {
    const transform = `translate(${lx.toFixed(1)},0)`;
    if (typeof group.setAttribute === "function") group.setAttribute("transform", transform);
    else group.attrs.transform = transform;
    lx += 22 + width(group) + 14;
  });
}

// --- Output -----------------------------------------------------------------------------
const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** The tree as SVG markup; every attribute value and text is escaped. */
export function toMarkup(tree) {
  if (!tree) return "";
  const attrs = Object.entries(tree.attrs)
    .map(([k, v]) => ` ${k}="${escape(v)}"`)
    .join("");
  const inner = (tree.text === null ? "" : escape(tree.text)) + tree.children.map(toMarkup).join("");
  return `<${tree.tag}${attrs}>${inner}</${tree.tag}>`;
}

/** The tree as SVG elements of `doc` (text goes in as textContent, never as markup). */
export function toElement(tree, doc) {
  const element = doc.createElementNS(SVG_NS, tree.tag);
  Object.entries(tree.attrs).forEach(([k, v]) => {
    if (k !== "xmlns") element.setAttribute(k, String(v));
  });
  if (tree.text !== null) element.textContent = tree.text;
  tree.children.forEach((child) => element.append(toElement(child, doc)));
  return element;
}
