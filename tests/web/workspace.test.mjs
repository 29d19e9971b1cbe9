// The lead workspace's pure helpers (bot/web/static/console/measures.js and bars.js),
// under node's own test runner: `node --test tests/web/*.test.mjs` (part of `make test`).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  barChart,
  claimChart,
  clip,
  dayChart,
  describeClaims,
  describeDays,
  fillDays,
  niceMax,
  niceSeconds,
  priorities,
  scale,
  secondSteps,
  stepsFor,
  ticks,
} from "../../bot/web/static/console/bars.js";
import { toMarkup } from "../../bot/web/static/console/chart.js";
import {
  NONE,
  annotationBody,
  annotationDetail,
  count,
  daysBetween,
  defaultRange,
  kindWords,
  matchesText,
  percent,
  plural,
  queryString,
  score,
  seconds,
  shortDay,
  splitTags,
  utcDay,
  utcTime,
} from "../../bot/web/static/console/measures.js";

function* walk(node) {
  yield node;
  for (const child of node.children) yield* walk(child);
}
const all = (tree, predicate) => [...walk(tree)].filter(predicate);
const texts = (tree) => all(tree, (n) => n.text !== null).map((n) => n.text);
const withClass = (tree, name) => all(tree, (n) => String(n.attrs.class || "").split(" ").includes(name));

// --- Numbers in words -------------------------------------------------------------------
test("rates: a percent with at most one decimal; no data reads as a dash", () => {
  assert.equal(percent(0.1234), "12.3%");
  assert.equal(percent(0.5), "50%");
  assert.equal(percent(1), "100%");
  assert.equal(percent(0), "0%");
  assert.equal(percent(0.00049), "0%");
  assert.equal(percent(null), NONE);
  assert.equal(percent(undefined), NONE);
  assert.equal(percent(Number.NaN), NONE);
});

test("durations in words, from under a second to days", () => {
  assert.equal(seconds(0), "0 s");
  assert.equal(seconds(0.4), "<1 s");
  assert.equal(seconds(42.4), "42 s");
  assert.equal(seconds(60), "1 min");
  assert.equal(seconds(75), "1 min 15 s");
  assert.equal(seconds(3600), "1 h");
  assert.equal(seconds(3725), "1 h 2 min");
  assert.equal(seconds(7170), "2 h"); // 1 h 59.5 min rounds up to the hour
  assert.equal(seconds(90_000), "1 d 1 h");
  assert.equal(seconds(null), NONE);
  assert.equal(seconds(-1), NONE);
});

test("counts, scores and plurals", () => {
  assert.equal(count(1234567), "1,234,567");
  assert.equal(count(null), NONE);
  assert.equal(score(0.8612), "0.86");
  assert.equal(score(undefined), NONE);
  assert.equal(plural(1, "turn"), "1 turn");
  assert.equal(plural(3, "turn"), "3 turns");
  assert.equal(plural(0, "query", "queries"), "0 queries");
  assert.equal(matchesText(1, false), "1 conversation matches");
  assert.equal(matchesText(25, false), "25 conversations match");
  assert.equal(matchesText(10000, true), "10,000+ conversations match");
});

// --- Dates ------------------------------------------------------------------------------
test("the default range is the last 30 UTC days, today included", () => {
  const now = Date.parse("2026-11-18T23:30:00Z");
  assert.deepEqual(defaultRange(now), { since: "2026-10-20", until: "2026-11-18" });
  assert.deepEqual(defaultRange(now, 1), { since: "2026-11-18", until: "2026-11-18" });
  assert.equal(utcDay(Date.parse("2026-01-02T00:00:00Z")), "2026-01-02");
});

test("every day of a range, both ends included; nothing for a range that ends first", () => {
  assert.deepEqual(daysBetween("2026-02-27", "2026-03-02"), ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]);
  assert.deepEqual(daysBetween("2026-03-02", "2026-03-01"), []);
  assert.deepEqual(daysBetween("junk", "2026-03-01"), []);
  assert.equal(daysBetween("2020-01-01", "2030-01-01", 10).length, 10);
});

test("times are UTC, as the range", () => {
  assert.equal(utcTime(Date.parse("2026-11-18T14:05:09Z") / 1000), "2026-11-18 14:05 UTC");
  assert.equal(utcTime(null), NONE);
  assert.equal(shortDay("2026-11-08"), "8 Nov");
});

// --- Requests ---------------------------------------------------------------------------
test("query strings leave out empty filters and encode the rest", () => {
  assert.equal(queryString({}), "");
  assert.equal(queryString({ since: "2026-11-01", channel: "", queue: null, agent: undefined }), "?since=2026-11-01");
  assert.equal(queryString({ text: "  refund & more  ", escalated: true }), "?text=refund+%26+more&escalated=true");
  assert.equal(queryString({ peak_above: 0 }), "?peak_above=0");
  const cursor = "MTc2MzQ3ODAwMC4wOjEy";
  assert.equal(new URLSearchParams(queryString({ cursor }).slice(1)).get("cursor"), cursor);
});

// --- Annotations ------------------------------------------------------------------------
test("tags: single words, split on spaces, commas or semicolons, unique", () => {
  assert.deepEqual(splitTags(" late, courier  refund;late "), ["late", "courier", "refund"]);
  assert.deepEqual(splitTags(""), []);
  assert.deepEqual(splitTags(undefined), []);
});

test("a wrong-emotion form becomes the body the API takes", () => {
  const body = annotationBody({
    kind: "wrong_emotion",
    turn: "2",
    sentiment: "negative",
    frustration: "1",
    urgency: "0",
    tags: "sarcasm",
    note: "  this was sarcasm  ",
    article: "ignored",
  });
  assert.deepEqual(body, {
    kind: "wrong_emotion",
    turn: 2,
    sentiment: "negative",
    frustration: 1,
    urgency: 0,
    tags: ["sarcasm"],
    note: "this was sarcasm",
  });
});

test("a wrong answer names the article, or null for none; a note may be about no turn", () => {
  assert.deepEqual(annotationBody({ kind: "wrong_answer", turn: "0", article: "late-delivery" }), {
    kind: "wrong_answer",
    turn: 0,
    article: "late-delivery",
    tags: [],
    note: null,
  });
  assert.equal(annotationBody({ kind: "wrong_answer", turn: "0", article: "" }).article, null);
  const note = annotationBody({ kind: "note", turn: "", note: "", tags: "" });
  assert.deepEqual(note, { kind: "note", turn: null, tags: [], note: null });
  assert.equal("sentiment" in note || "article" in note, false);
});

test("annotations in words", () => {
  assert.equal(kindWords("should_have_escalated"), "Should have escalated");
  assert.equal(kindWords("something_new"), "something new");
  assert.equal(
    annotationDetail({ kind: "wrong_emotion", detail: { sentiment: "neutral", frustration: 0, urgency: 1 } }),
    "should be neutral · not frustrated · urgent"
  );
  assert.equal(annotationDetail({ kind: "wrong_answer", detail: { article: null } }), "the help center has no answer");
  assert.equal(annotationDetail({ kind: "note", detail: { tags: ["x"] } }), "");
});

// --- Chart scales -----------------------------------------------------------------------
test("nice scales: round maxima, ticks and positions", () => {
  assert.equal(niceMax(0), 1);
  assert.equal(niceMax(0.07), 0.1);
  assert.equal(niceMax(0.3), 0.5);
  assert.equal(niceMax(3), 5);
  assert.equal(niceMax(21), 25);
  assert.equal(niceMax(100), 100);
  assert.equal(niceSeconds(45), 60);
  assert.equal(niceSeconds(200), 300);
  assert.equal(niceSeconds(100_000), 172_800);
  assert.deepEqual(ticks(1, 4), [0, 0.25, 0.5, 0.75, 1]);
  assert.equal(scale(5, 10, 0, 200), 100);
  assert.equal(scale(50, 10, 0, 200), 200); // clamped
  assert.equal(scale(0.5, 1, 100, 0), 50); // an upward axis
  assert.equal(clip("x".repeat(100), 10), "xxxxxxxxx…");
});

// --- Charts -----------------------------------------------------------------------------
test("bars: one per row, the longest spanning the width, labels as text", () => {
  const tree = barChart(
    [
      { label: "asked for a person", value: 4 },
      { label: "<img src=x onerror=alert(1)>", value: 2, text: "2 (50%)" },
    ],
    { description: "Escalation reasons", kind: "reason" }
  );
  const rects = withClass(tree, "bar__rect");
  assert.equal(rects.length, 2);
  assert.equal(Number(rects[0].attrs.width), 2 * Number(rects[1].attrs.width));
  assert.ok(texts(tree).includes("2 (50%)"));
  const markup = toMarkup(tree);
  assert.ok(!markup.includes("<img"), markup);
  assert.ok(markup.includes("&lt;img src=x"));
  assert.equal(tree.attrs.role, "img");
  assert.equal(barChart([], { description: "none" }), null);
});

test("time to claim: median and p90 per priority, in queue order, with the target", () => {
  const byPriority = {
    normal: { claims: 3, median_seconds: 40, p90_seconds: 200, target_seconds: 120, within_target_rate: 0.6667 },
    urgent: { claims: 1, median_seconds: 30, p90_seconds: 30, target_seconds: 60, within_target_rate: 1 },
  };
  assert.deepEqual(priorities(byPriority), ["urgent", "normal"]);
  const tree = claimChart(byPriority);
  const bars = (name) => withClass(tree, name).filter((n) => n.children.length); // not the legend's
  assert.equal(bars("bar__rect--median").length, 2);
  assert.equal(bars("bar__rect--p90").length, 2);
  assert.equal(withClass(tree, "bar__rect--over").length, 1); // normal's p90 is over 2 min
  assert.equal(all(tree, (n) => n.tag === "line" && n.attrs.class === "bar__target").length, 3); // legend + 2
  const described = describeClaims(byPriority);
  assert.match(described, /^Urgent: 1 claimed, median 30 s/);
  assert.match(described, /Normal: 3 claimed, median 40 s, 90th percentile 3 min 20 s against a target of 2 min, 66\.7% within the target\./);
  assert.equal(claimChart({}), null);
});

test("frustration peaks by day: every day of the range, a column where there were conversations", () => {
  const days = fillDays(
    [
      { day: "2026-11-02", conversations: 4, frustration_peak_rate: 0.25 },
      { day: "2026-11-04", conversations: 2, frustration_peak_rate: 0 },
    ],
    daysBetween("2026-11-01", "2026-11-05")
  );
  assert.deepEqual(days.map((d) => d.conversations), [0, 4, 0, 2, 0]);
  assert.equal(days[0].rate, null);
  const tree = dayChart(days);
  const columns = all(tree, (n) => n.tag === "rect");
  assert.equal(columns.length, 2);
  assert.equal(withClass(tree, "day--none").length, 1); // the day without a peak
  assert.match(describeDays(days), /1 of 6 conversations \(16\.7%\)\. Highest on 2 Nov: 25% of 4\./);
  assert.equal(dayChart(fillDays([], daysBetween("2026-11-01", "2026-11-05"))), null);
});

test("axis steps are round: tenths of 50%, minutes of 5 min", () => {
  assert.equal(stepsFor(0.5), 5);
  assert.equal(stepsFor(1), 4);
  assert.equal(stepsFor(0.2), 4);
  assert.equal(stepsFor(0.25), 5);
  assert.equal(secondSteps(300), 5);
  assert.equal(secondSteps(1200), 4);
  assert.equal(secondSteps(1800), 3);
  assert.equal(secondSteps(60), 4);
});
