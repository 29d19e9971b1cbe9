// The lead workspace's numbers and requests in words: rates, durations, counts, date
// ranges, query strings and the annotation a form becomes. Pure functions (no DOM),
// tested with `node --test tests/web/` (workspace.test.mjs).

export const NONE = "—"; // a number the range has no data for (the API's null)
export const DEFAULT_DAYS = 30; // as the API: the last 30 days, today included
const DAY_MS = 86_400_000;

/** 0.1234 → "12.3%", 0.5 → "50%", null → "—". */
export function percent(rate) {
  if (typeof rate !== "number" || !Number.isFinite(rate)) return NONE;
  const value = Math.round(rate * 1000) / 10;
  return `${Number.isInteger(value) ? value : value.toFixed(1)}%`;
}

/** 1234 → "1,234"; anything that is not a number → "—". */
export function count(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return NONE;
  return Math.round(n).toLocaleString("en-US");
}

/** A duration in seconds, in words: 42 → "42 s", 75 → "1 min 15 s", 3725 → "1 h 2 min". */
export function seconds(value) {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return NONE;
  if (value > 0 && value < 1) return "<1 s";
  const s = Math.round(value);
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  }
  if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    return m ? (m === 60 ? `${h + 1} h` : `${h} h ${m} min`) : `${h} h`;
  }
  const d = Math.floor(s / 86_400);
  const h = Math.round((s % 86_400) / 3600);
  return h ? (h === 24 ? `${d + 1} d` : `${d} d ${h} h`) : `${d} d`;
}

/** A score between 0 and 1 with two decimals ("0.86"), or "—". */
export function score(value) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(2) : NONE;
}

/** "3 conversations" / "1 conversation". */
export function plural(n, one, many) {
  return `${count(n)} ${n === 1 ? one : many || one + "s"}`;
}

// --- Dates ------------------------------------------------------------------------------
/** A Date as a UTC day, "2026-11-18" (the API's dates are UTC days). */
export function utcDay(date) {
  return new Date(date).toISOString().slice(0, 10);
}

/** The default range: the last 30 UTC days, today included ({since, until}). */
export function defaultRange(now, days = DEFAULT_DAYS) {
  const today = new Date(now === undefined ? Date.now() : now);
  return { since: utcDay(today.getTime() - (days - 1) * DAY_MS), until: utcDay(today) };
}

/** Every UTC day from `since` to `until`, both included ("YYYY-MM-DD"); at most `limit`. */
export function daysBetween(since, until, limit = 3700) {
  const first = Date.parse(since + "T00:00:00Z");
  const last = Date.parse(until + "T00:00:00Z");
  if (Number.isNaN(first) || Number.isNaN(last) || last < first) return [];
  const out = [];
  for (let t = first; t <= last && out.length < limit; t += DAY_MS) out.push(utcDay(t));
  return out;
}

/** An epoch time as "2026-11-18 14:05 UTC" (the workspace's dates are UTC days). */
export function utcTime(epoch) {
  if (typeof epoch !== "number" || !Number.isFinite(epoch) || epoch <= 0) return NONE;
  const iso = new Date(epoch * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** "18 Nov" for a "2026-11-18" day (chart ticks). */
export function shortDay(day) {
  const t = Date.parse(String(day) + "T00:00:00Z");
  if (Number.isNaN(t)) return String(day);
  return new Date(t).toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
}

// --- Requests ---------------------------------------------------------------------------
/** "?a=1&b=x" from an object, leaving out null, undefined and empty values; "" if none. */
export function queryString(params) {
  const search = new URLSearchParams();
  Object.entries(params || {}).forEach(([key, value]) => {
    if (value === null || value === undefined) return;
    const text = String(value).trim();
    if (text) search.append(key, text);
  });
  const out = search.toString();
  return out ? "?" + out : "";
}

/** "1 conversation matches", "10,000+ conversations match". */
export function matchesText(matches, moreThan) {
  const n = Number(matches) || 0;
  if (moreThan) return `${count(n)}+ conversations match`;
  return n === 1 ? "1 conversation matches" : `${count(n)} conversations match`;
}

// --- Annotations ------------------------------------------------------------------------
export const KIND_WORDS = {
  should_have_escalated: "Should have escalated",
  escalated_too_early: "Escalated too early",
  wrong_emotion: "Wrong emotion",
  wrong_answer: "Wrong answer",
  note: "Note",
};
export const NEEDS_TURN = ["wrong_emotion", "wrong_answer"];
export const SENTIMENTS = ["negative", "neutral", "positive"];

export const kindWords = (kind) => KIND_WORDS[kind] || String(kind || "").replace(/_/g, " ");

/** Tags typed as "late, courier  refund" → ["late", "courier", "refund"] (unique, in order). */
export function splitTags(text) {
  const seen = [];
  String(text || "")
    .split(/[\s,;]+/)
    .map((t) => t.trim())
    .filter(Boolean)
    .forEach((t) => seen.includes(t) || seen.push(t));
  return seen;
}

/**
 * The POST body of an annotation from the form's values (strings, as the form holds
 * them): {kind, turn, note, tags} and, by kind, the corrected emotion or the article.
 * The server checks it again and says what is wrong.
 */
export function annotationBody(values) {
  const v = values || {};
  const kind = String(v.kind || "");
  const turnText = v.turn === undefined || v.turn === null ? "" : String(v.turn);
  const body = {
    kind,
    turn: turnText === "" ? null : Number(turnText),
    tags: splitTags(v.tags),
    note: String(v.note || "").trim() || null,
  };
  if (kind === "wrong_emotion") {
    body.sentiment = v.sentiment || null;
    body.frustration = v.frustration === "" || v.frustration == null ? null : Number(v.frustration);
    body.urgency = v.urgency === "" || v.urgency == null ? null : Number(v.urgency);
  } else if (kind === "wrong_answer") {
    body.article = v.article ? String(v.article) : null;
  }
  return body;
}

/** What an annotation says beyond its kind: "negative · frustrated · not urgent", "article: x". */
export function annotationDetail(annotation) {
  const d = (annotation && annotation.detail) || {};
  const parts = [];
  if (annotation && annotation.kind === "wrong_emotion") {
    if (d.sentiment) parts.push(`should be ${d.sentiment}`);
    if (d.frustration !== undefined) parts.push(d.frustration ? "frustrated" : "not frustrated");
    if (d.urgency !== undefined) parts.push(d.urgency ? "urgent" : "not urgent");
  }
  if (annotation && annotation.kind === "wrong_answer") {
    parts.push(d.article ? `right article: ${d.article}` : "the help center has no answer");
  }
  return parts.join(" · ");
}
