// The lead dashboard (GET /api/insights/dashboard): the measures as tiles, each with its
// definition, and the charts a lead would rather look at than read. Every text goes in
// as textContent; the charts are SVG trees (bars.js) made into elements by chart.js.
import { barChart, claimChart, dayChart, fillDays } from "./bars.js";
import { toElement } from "./chart.js";
import { KIND_WORDS, count, daysBetween, percent, plural, seconds } from "./measures.js";
import { el, lead } from "./page.js";
import { state } from "./state.js";
import { channelLabel, humanize, queueTitle } from "./words.js";

// A measure the API has no definition for.
const OWN_DEFINITIONS = {
  conversations:
    "Conversations started in the range (UTC days) in which the customer wrote at least once.",
};

const share = (part, whole) => (whole ? part / whole : null);

function definition(data, key) {
  const text = (data.definitions && data.definitions[key]) || OWN_DEFINITIONS[key] || "";
  return text ? el("p", "definition", text) : null;
}

/** One tile: a number, what it is, a line of context and the definition. */
function tile(data, measure, label, value, context, definitionKey) {
  const item = el("li", "tile");
  item.dataset.measure = measure;
  item.append(el("h3", "tile__label", label), el("p", "tile__value", value));
  if (context) item.append(el("p", "tile__context", context));
  const words = definition(data, definitionKey || measure);
  if (words) item.append(words);
  return item;
}

function tiles(data) {
  const s = data.summary || {};
  const r = data.reviews || { conversations: 0, by_kind: {} };
  const annotations = Object.values(r.by_kind || {}).reduce((n, k) => n + k, 0);
  const kinds = Object.entries(r.by_kind || {})
    .map(([kind, n]) => `${KIND_WORDS[kind] || humanize(kind)} ${count(n)}`)
    .join(" · ");
  const resolved = (s.resolved_by_bot || 0) + (s.resolved_by_person || 0);
  const csat =
    `${percent(s.csat_response_rate)} response rate ` +
    `(${count(s.csat_responses)} of ${count(s.csat_asked)} asked)`;
  return [
    tile(data, "conversations", "Conversations", count(s.conversations),
      `${count(s.escalated)} escalated · ${count(s.contained)} contained`),
    tile(data, "containment", "Containment", percent(s.containment_rate),
      `${count(s.contained)} of ${count(s.conversations)} handled by the bot alone`, "containment_rate"),
    tile(data, "escalation", "Escalation rate", percent(s.escalation_rate),
      `${plural(s.escalated, "conversation")} handed to a person`, "escalation_rate"),
    tile(data, "fcr", "First-contact resolution", percent(s.fcr_rate),
      `of ${plural(resolved, "resolved conversation")}`, "fcr_rate"),
    tile(data, "csat", "CSAT", percent(s.csat), csat, "csat"),
    tile(data, "time-to-claim", "Time to claim (median)", seconds(s.median_seconds_to_claim),
      `90th percentile ${seconds(s.p90_seconds_to_claim)}`, "time_to_claim"),
    tile(data, "handling", "Handling time (median)", seconds(s.median_handling_seconds), "", "handling_time"),
    tile(data, "frustration", "Frustration peaks", percent(s.frustration_peak_rate),
      "of conversations reached frustration 0.8", "frustration_peak_rate"),
    tile(data, "reviews", "Reviewed", count(r.conversations),
      `${plural(annotations, "annotation")}` + (kinds ? `: ${kinds}` : ""), "reviews"),
  ];
}

/** A panel: heading, definition, and the chart (or a line saying there is nothing). */
function panel(data, key, heading, content, empty) {
  const section = el("section", "panel");
  section.dataset.panel = key;
  const id = "panel-" + key;
  const title = el("h3", "panel__heading", heading);
  title.id = id;
  section.setAttribute("aria-labelledby", id);
  section.append(title);
  const words = definition(data, key);
  if (words) section.append(words);
  if (!content) section.append(el("p", "chart-empty", empty));
  else section.append(content.tag ? toElement(content, document) : content);
  return section;
}

function gapsList(gaps) {
  if (!Array.isArray(gaps) || !gaps.length) return null;
  const list = el("ol", "gaps");
  gaps.forEach((g) => {
    const item = el("li", "gap");
    item.append(el("p", "gap__count", plural(g.questions, "question")));
    const examples = el("ul", "gap__examples");
    // The same words asked in several conversations: once is enough.
    [...new Set(g.examples || [])].forEach((q) => examples.append(el("li", "", q)));
    item.append(examples);
    list.append(item);
  });
  return list;
}

function panels(data) {
  const s = data.summary || {};
  const reasons = (data.escalation_reasons || []).map((r) => ({
    // The API drops a reason's numbers: "urgent request (urgency )" reads "(urgency)".
    label: String(r.reason).replace(/\(\s+/g, "(").replace(/\s+\)/g, ")").replace(/\(\)/g, "").trim(),
    value: r.conversations,
    text: `${count(r.conversations)} (${percent(share(r.conversations, s.escalated))})`,
  }));
  const intents = (data.top_intents || []).map((r) => ({
    label: humanize(r.intent),
    value: r.conversations,
    text: `${count(r.conversations)} (${percent(share(r.conversations, s.conversations))})`,
    title: `${humanize(r.intent)} (${r.intent}): ${count(r.conversations)}`,
  }));
  const notEnded = Math.max(0, (s.conversations || 0) - (s.ended || 0));
  const outcomes = [
    ["Resolved by the bot", s.resolved_by_bot],
    ["Resolved by a person", s.resolved_by_person],
    ["Abandoned", s.abandoned],
    ["Not ended yet", notEnded],
  ].map(([label, n]) => ({
    label,
    value: n || 0,
    text: `${count(n || 0)} (${percent(share(n || 0, s.conversations))})`,
  }));
  const days = fillDays(data.frustration_by_day, daysBetween(s.since, s.until));
  return [
    panel(data, "escalation_reasons", "Why conversations were escalated",
      barChart(reasons, { description: "Escalation reasons: " + reasons.map((r) => `${r.label} ${r.text}`).join(", "), kind: "reason" }),
      "No conversation was escalated in this range."),
    panel(data, "time_to_claim", "Time to claim by priority",
      claimChart(s.time_to_claim_by_priority || {}), "No conversation was claimed in this range."),
    panel(data, "frustration_peak_rate", "Frustration peaks by day", dayChart(days),
      "No conversations in this range."),
    panel(data, "outcomes", "Outcomes",
      s.conversations ? barChart(outcomes, { description: "Outcomes: " + outcomes.map((o) => `${o.label} ${o.text}`).join(", "), kind: "outcome" }) : null,
      "No conversations in this range."),
    panel(data, "top_intents", "Top requests",
      barChart(intents, { description: "Top requests: " + intents.map((r) => `${r.label} ${r.text}`).join(", "), kind: "intent" }),
      "No requests in this range."),
    panel(data, "knowledge_gaps", "Knowledge gaps", gapsList(data.knowledge_gaps),
      "The help center answered every question in this range."),
  ];
}

/** Show the dashboard's answer. */
export function renderDashboard(data) {
  const s = data.summary || {};
  lead.dashboardStatus.textContent =
    `${s.since || ""} to ${s.until || ""} (UTC)` +
    (s.channel ? ` · ${channelLabel(s.channel)}` : "") +
    (s.queue ? ` · ${queueTitle(s.queue, state.queues)} queue` : "") +
    (s.conversations ? "" : " · no conversations in this range");
  lead.tiles.replaceChildren(...tiles(data));
  lead.panels.replaceChildren(...panels(data));
}
