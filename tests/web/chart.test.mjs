// The console's emotion chart (bot/web/static/console/chart.js), under node's own test
// runner: `node --test tests/web/*.test.mjs` (part of `make test`).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  PLOT,
  chartPoints,
  describeChart,
  emotionChart,
  reachesThreshold,
  toElement,
  toMarkup,
  yOf,
} from "../../bot/web/static/console/chart.js";

const THRESHOLDS = { escalate_at: 0.8, urgent_at: 0.8 };

// All nodes of a tree, depth first.
function* walk(node) {
  yield node;
  for (const child of node.children) yield* walk(child);
}
const all = (tree, predicate) => [...walk(tree)].filter(predicate);
const withClass = (tree, tag, name) =>
  all(tree, (n) => n.tag === tag && String(n.attrs.class || "").split(" ").includes(name));

const timeline = [
  { turn: 1, frustration: 0.2, urgency: 0.1 },
  { turn: 2, frustration: 0.55, urgency: 0.3 },
  { turn: 3, frustration: 0.86, urgency: 0.4 },
];
const waiting = [
  { sender: "agent", text: "Hi" },
  { sender: "customer", text: "still here??", emotion: { frustration: 0.9, urgency: 0.85 } },
  { sender: "customer", text: "no scores" },
];

test("points: the timeline, then customer messages with scores written while waiting", () => {
  const points = chartPoints(timeline, waiting);
  assert.deepEqual(
    points.map((p) => [p.turn, p.frustration, p.urgency, p.during]),
    [
      [1, 0.2, 0.1, false],
      [2, 0.55, 0.3, false],
      [3, 0.86, 0.4, false],
      [4, 0.9, 0.85, true],
    ]
  );
  assert.deepEqual(chartPoints(undefined, undefined), []);
});

test("one marker per point and series, and one line per series", () => {
  const tree = emotionChart(chartPoints(timeline, waiting), THRESHOLDS);
  assert.equal(tree.tag, "svg");
  // Markers on the plot carry a title; the legend's marks do not.
  const markers = (name) => withClass(tree, "circle", name).filter((n) => n.children.length);
  assert.equal(markers("chart__dot--frustration").length, 4);
  assert.equal(markers("chart__dot--urgency").length, 4);
  assert.equal(withClass(tree, "circle", "chart__dot").length, 4 * 2 + 3); // + 3 legend marks
  const during = markers("chart__dot--during");
  assert.equal(during.length, 2); // the waiting turn, in both series
  assert.match(during[0].children[0].text, /^Turn 4 \(while waiting\): frustration 0\.90$/);
  assert.equal(withClass(tree, "polyline", "chart__line").length, 2);
  assert.equal(withClass(tree, "line", "chart__handoff").length, 1);
});

test("the threshold line sits at the threshold the server sent", () => {
  for (const at of [0.8, 0.6]) {
    const tree = emotionChart(chartPoints(timeline, []), { escalate_at: at, urgent_at: at });
    const [line] = withClass(tree, "line", "chart__threshold").filter((n) => n.attrs.x1 !== 0);
    const expected = PLOT.bottom - at * (PLOT.bottom - PLOT.top);
    assert.equal(line.attrs.y1, expected);
    assert.equal(line.attrs.y2, expected);
    assert.equal(line.attrs.x1, PLOT.left);
    assert.equal(line.attrs.x2, PLOT.right);
    const label = all(tree, (n) => n.tag === "text" && n.text === "escalation threshold");
    assert.equal(label.length, 1);
    assert.equal(label[0].attrs.y, expected - 5);
  }
  assert.equal(yOf(0), PLOT.bottom);
  assert.equal(yOf(1), PLOT.top);
});

test("a separate urgency line only when urgent_at differs from escalate_at", () => {
  const points = chartPoints(timeline, []);
  assert.equal(withClass(emotionChart(points, THRESHOLDS), "line", "chart__threshold--urgency").length, 0);
  const tree = emotionChart(points, { escalate_at: 0.8, urgent_at: 0.35 });
  const urgency = withClass(tree, "line", "chart__threshold--urgency");
  assert.equal(urgency.length, 1);
  assert.equal(urgency[0].attrs.y1, yOf(0.35));
  assert.equal(all(tree, (n) => n.text === "urgency threshold").length, 1);
  assert.equal(all(tree, (n) => n.text === "escalation threshold").length, 1);
});

test("turns at or above a threshold are counted, and described", () => {
  const points = chartPoints(timeline, waiting);
  assert.equal(points.filter((p) => reachesThreshold(p, THRESHOLDS)).length, 2);
  assert.equal(reachesThreshold({ frustration: 0.8 }, THRESHOLDS), true); // at counts
  assert.equal(reachesThreshold({ frustration: 0.79, urgency: 0.79 }, THRESHOLDS), false);
  assert.equal(reachesThreshold({ urgency: 0.5 }, { escalate_at: 0.8, urgent_at: 0.5 }), true);

  const text = describeChart(points, THRESHOLDS);
  assert.equal(
    text,
    "Frustration and urgency over 4 customer turns (1 while waiting for a person), on a scale " +
      "from 0 to 1. Latest turn 4: frustration 0.90, urgency 0.85. Peak frustration 0.90 at " +
      "turn 4. 2 turns reach the escalation threshold of 0.8."
  );
  const lower = describeChart(points, { escalate_at: 0.5, urgent_at: 0.5 });
  assert.match(lower, /3 turns reach the escalation threshold of 0\.5\.$/);
  const one = describeChart(chartPoints([{ turn: 1, frustration: 0.9, urgency: 0 }], []), THRESHOLDS);
  assert.match(one, /over 1 customer turn, .* 1 turn reaches the escalation threshold of 0\.8\.$/);

  const tree = emotionChart(points, THRESHOLDS);
  assert.equal(tree.attrs["aria-label"], text);
  assert.equal(tree.attrs.role, "img");
  assert.equal(tree.children[0].tag, "title");
  assert.equal(tree.children[0].text, text);
});

test("no points: no chart, and the words say so", () => {
  assert.equal(emotionChart([], THRESHOLDS), null);
  assert.equal(emotionChart(chartPoints([], [{ sender: "customer", text: "hi" }]), THRESHOLDS), null);
  assert.equal(toMarkup(null), "");
  assert.equal(describeChart([], THRESHOLDS), "No emotion scores for this conversation yet.");
});

test("thresholds must come from the server: a missing one is an error, not a default", () => {
  const points = chartPoints(timeline, []);
  assert.throws(() => emotionChart(points, undefined), /escalate_at, urgent_at/);
  assert.throws(() => emotionChart(points, { escalate_at: 0.8 }), /urgent_at/);
  assert.throws(() => emotionChart(points, { escalate_at: "0.8", urgent_at: 0.8 }), TypeError);
});

test("markup is well formed and escapes every text", () => {
  const points = chartPoints(timeline, waiting);
  const markup = toMarkup(emotionChart(points, THRESHOLDS));
  assert.ok(markup.startsWith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 460 230"'));
  assert.equal((markup.match(/<circle /g) || []).length, 4 * 2 + 3); // dots + legend marks
  assert.ok(markup.includes(">escalation threshold</text>"));
  const opened = (markup.match(/<[a-z]+[ >]/g) || []).length;
  assert.equal(opened, (markup.match(/<\/[a-z]+>/g) || []).length);

  const hostile = { tag: "text", attrs: { class: '"><script>' }, text: "<img src=x onerror=alert(1)>", children: [] };
  assert.equal(
    toMarkup(hostile),
    '<text class="&quot;&gt;&lt;script&gt;">&lt;img src=x onerror=alert(1)&gt;</text>'
  );
});

test("toElement builds SVG elements through the document it is given, text as textContent", () => {
  const created = [];
  const fakeDocument = {
    createElementNS(ns, tag) {
      const element = {
        ns,
        tag,
        attributes: {},
        children: [],
        textContent: "",
        setAttribute(k, v) {
          this.attributes[k] = v;
        },
        append(child) {
          this.children.push(child);
        },
      };
      created.push(element);
      return element;
    },
  };
  const tree = emotionChart(chartPoints(timeline, []), THRESHOLDS);
  const svg = toElement(tree, fakeDocument);
  assert.equal(created.length, [...walk(tree)].length);
  assert.ok(created.every((e) => e.ns === "http://www.w3.org/2000/svg"));
  assert.equal(svg.attributes.viewBox, "0 0 460 230");
  assert.equal(svg.attributes.xmlns, undefined); // createElementNS sets the namespace
  assert.equal(svg.children[0].textContent, tree.children[0].text);
  assert.equal(created.filter((e) => e.tag === "circle").length, 3 * 2 + 2);
});
