// Transcript review: the search (GET /api/insights/conversations, keyset pages with
// "More"), and one conversation (GET /api/insights/conversations/{id}): its facts, the
// emotion chart, the routing decisions with their reasons, the timeline of messages,
// and the leads' annotations (annotate.js). Customer text only ever goes in as
// textContent.
import { api } from "./api.js";
import { renderAnnotations, resetAnnotateForm } from "./annotate.js";
import { emotionChart, layoutLegend, toElement } from "./chart.js";
import { count, matchesText, plural, queryString, score, seconds, utcTime } from "./measures.js";
import { channelTag, el, lead, notify, priorityBadge, timeOfDay } from "./page.js";
import { messageItem } from "./transcript.js";
import { state } from "./state.js";
import { humanize, outcomeWords, queueTitle } from "./words.js";

const ACTION_WORDS = { escalate: "Escalated to a person", empathize: "Empathetic tone", continue: "Continued" };
const IDLE_SECONDS = 3600; // as the API: a conversation idle this long has ended
const PEAK = 0.8;

// --- The search -------------------------------------------------------------------------
/** The search form's filters, with the range's (the API's parameter names). */
export function searchParams() {
  const form = new FormData(lead.searchForm);
  const params = { ...(state.lead.range || {}) };
  for (const [key, value] of form.entries()) params[key] = value;
  return params;
}

/** Load the first page of results (`more`: the next page, added below). */
export async function search(more) {
  const l = state.lead;
  if (!state.user) return;
  const params = searchParams();
  if (more) {
    if (!l.next) return;
    params.cursor = l.next;
  }
  const token = ++l.searchToken;
  lead.searchSubmit.disabled = true;
  lead.more.disabled = true;
  lead.searchError.textContent = "";
  try {
    const data = await api("GET", "/api/insights/conversations" + queryString(params));
    if (token !== l.searchToken) return;
    l.searched = true;
    l.next = data.next || null;
    const rows = (data.conversations || []).map(resultItem);
    if (more) lead.results.append(...rows);
    else lead.results.replaceChildren(...rows);
    lead.resultsCount.textContent = matchesText(data.matches, data.more_than);
    lead.more.hidden = !l.next;
    markCurrent();
  } catch (e) {
    if (e.status !== 401) lead.searchError.textContent = e.message;
  } finally {
    lead.searchSubmit.disabled = false;
    lead.more.disabled = false;
  }
}

function chip(text, className) {
  return el("span", "chip" + (className ? " " + className : ""), text);
}

/** One conversation of the results: when, where, what about, and how it went. */
function resultItem(c) {
  const item = el("li", "result");
  item.dataset.id = String(c.id);
  item.dataset.escalated = c.escalated ? "true" : "false";
  const open = el("button", "result__open");
  open.type = "button";
  const top = el("span", "result__top");
  top.append(el("span", "result__when", utcTime(c.started_at)), channelTag(c.channel, "result__channel"));
  const what = el("span", "result__what", c.first_intent ? humanize(c.first_intent) : "No request recognised");
  const chips = el("span", "result__chips");
  if (c.escalated) {
    chips.append(priorityBadge(c.priority), chip("Escalated · " + queueTitle(c.queue, state.queues), "chip--escalated"));
  } else {
    chips.append(chip("Contained", "chip--contained"));
  }
  chips.append(chip(plural(c.turns, "turn")));
  const peak = chip("Frustration peak " + score(c.frustration_peak), c.frustration_peak >= PEAK ? "chip--high" : "");
  chips.append(peak);
  if (typeof c.csat === "number") chips.append(chip(`CSAT ${c.csat}/5`, c.csat >= 4 ? "chip--good" : "chip--bad"));
  if (c.kb_missed) chips.append(chip(`Help-center miss ×${c.kb_missed}`, "chip--bad"));
  if (c.agent) chips.append(chip("Agent " + c.agent));
  open.append(top, what, chips);
  if (c.escalated && c.escalation_reason) open.append(el("span", "result__why", "Why: " + c.escalation_reason));
  open.addEventListener("click", () => openReview(c.id, { focus: true }));
  item.append(open);
  return item;
}

function markCurrent() {
  const id = state.lead.open ? String(state.lead.open.conversation.id) : null;
  lead.results.querySelectorAll(".result").forEach((item) => {
    const current = item.dataset.id === id;
    item.classList.toggle("result--current", current);
    const button = item.querySelector(".result__open");
    if (current) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  });
}

// --- One conversation -------------------------------------------------------------------
export async function openReview(id, options) {
  const l = state.lead;
  const token = ++l.token;
  let data;
  try {
    data = await api("GET", `/api/insights/conversations/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e.status !== 401) notify(e.message, "error");
    return;
  }
  if (token !== l.token || !state.user) return;
  const same = l.open && l.open.conversation.id === data.conversation.id;
  l.open = data;
  showReview(data, same);
  markCurrent();
  if (options && options.focus) lead.detailTitle.focus();
}

export function closeReview(options) {
  const wasOpen = state.lead.open ? state.lead.open.conversation.id : null;
  state.lead.open = null;
  state.lead.token += 1;
  lead.detail.hidden = true;
  lead.review.classList.remove("review--open");
  markCurrent();
  if (options && options.restoreFocus && wasOpen !== null) {
    const button = lead.results.querySelector(`.result[data-id="${wasOpen}"] .result__open`);
    (button || lead.searchForm.querySelector("input")).focus();
  }
}

function showReview(data, same) {
  const c = data.conversation;
  lead.detail.hidden = false;
  lead.review.classList.add("review--open"); // a phone shows the conversation alone
  lead.detailTitle.textContent = `Conversation ${c.id}`;
  const meta = [
    channelTag(c.channel),
    el("span", "", "Started " + utcTime(c.started_at)),
    el("span", "", plural(c.turns, "customer turn")),
  ];
  if (c.escalated) meta.unshift(priorityBadge(c.priority));
  lead.detailMeta.replaceChildren(...meta);
  lead.detailFacts.replaceChildren(...facts(c));
  lead.decisions.replaceChildren(...decisionItems(c.decisions));
  renderTimeline(data);
  renderChart(data);
  renderAnnotations(data);
  if (!same) {
    resetAnnotateForm(data);
    lead.detail.scrollTop = 0;
  }
}

function ended(c) {
  return Boolean(c.closed_at) || Date.now() / 1000 - (c.last_event_at || 0) > IDLE_SECONDS;
}

function facts(c) {
  const rows = [];
  const add = (label, value) => {
    if (value === null || value === undefined || value === "") return;
    rows.push(el("dt", "", label), el("dd", "", value));
  };
  add("Started", utcTime(c.started_at));
  add("Last activity", utcTime(c.last_event_at));
  add("First request", c.first_intent ? humanize(c.first_intent) : "Not recognised");
  const outcome = outcomeWords(c.outcome);
  add("Outcome", ended(c) ? outcome : `Not ended yet (${outcome.toLowerCase()} if it ended now)`);
  add("Escalated", c.escalated ? `Yes — ${c.escalation_reason || "asked for a person"}` : "No, contained by the bot");
  if (c.escalated) {
    add("Queue", queueTitle(c.queue, state.queues));
    add("Time to claim", c.seconds_to_claim === null ? "Not claimed" : seconds(c.seconds_to_claim) +
      (c.wait_target_seconds ? ` (target ${seconds(c.wait_target_seconds)})` : ""));
    add("Agent", c.agent);
    if (c.seconds_to_first_reply !== null) add("First reply", seconds(c.seconds_to_first_reply));
    if (c.handling_seconds !== null) add("Handling time", seconds(c.handling_seconds));
  }
  add("CSAT", typeof c.csat === "number" ? `${c.csat}/5` : c.csat_asked ? "Asked, not answered" : "Not asked");
  add("CSAT comment", c.csat_comment);
  add("Help center", `${count(c.kb_answered)} answered · ${count(c.kb_missed)} missed`);
  add("Frustration", `peak ${score(c.frustration_peak)} · mean ${score(c.frustration_mean)}`);
  add("Urgency peak", score(c.urgency_peak));
  add("Distress (highest)", score(c.distress_max));
  if (c.repeat_contact) add("Came back", "Within 7 days (not resolved at first contact)");
  return rows;
}

function decisionText(d) {
  const parts = [ACTION_WORDS[d.action] || humanize(d.action)];
  if (d.priority) parts.push(humanize(d.priority) + " priority");
  if (d.queue) parts.push(queueTitle(d.queue, state.queues) + " queue");
  if (typeof d.distress === "number") parts.push("distress " + score(d.distress));
  return parts.join(" · ");
}

function reasonsList(reasons) {
  const list = el("ul", "reasons");
  (Array.isArray(reasons) ? reasons : []).forEach((r) => list.append(el("li", "", r)));
  return list;
}

function decisionItems(decisions) {
  if (!Array.isArray(decisions) || !decisions.length) {
    return [el("li", "decision decision--none", "No routing decision: the bot went on as usual.")];
  }
  return decisions.map((d) => {
    const item = el("li", "decision decision--" + d.action);
    const head = el("p", "decision__head");
    const time = timeOfDay(d.t);
    if (time) head.append(time, " ");
    head.append(el("strong", "", decisionText(d)));
    item.append(head, reasonsList(d.reasons));
    return item;
  });
}

// --- Timeline and chart -----------------------------------------------------------------
function emotionLine(emotion) {
  if (!emotion || typeof emotion !== "object") return null;
  const high = (emotion.frustration || 0) >= PEAK || (emotion.urgency || 0) >= PEAK;
  const sentiment = emotion.sentiment && typeof emotion.sentiment === "object" ? emotion.sentiment : {};
  return el(
    "span",
    "msg__emotion" + (high ? " msg__emotion--high" : ""),
    `frustration ${score(emotion.frustration)} · urgency ${score(emotion.urgency)} · ` +
      `negative ${score(sentiment.negative)}`
  );
}

function turnTools(item) {
  const tools = el("div", "msg__tools");
  const line = emotionLine(item.emotion);
  if (line) tools.append(line);
  if (item.intent) tools.append(el("span", "msg__intent", humanize(item.intent)));
  if (typeof item.turn === "number") {
    const button = el("button", "button button--quiet msg__review", "Review this turn");
    button.type = "button";
    button.dataset.turn = String(item.turn);
    button.setAttribute("aria-label", `Review turn ${item.turn + 1}`);
    button.addEventListener("click", () => {
      lead.annotateTurn.value = String(item.turn);
      lead.annotateTurn.dispatchEvent(new Event("change"));
      lead.annotateForm.scrollIntoView({ block: "nearest" });
      lead.annotateKind.focus();
    });
    tools.append(button);
  }
  return tools;
}

function routingItem(item) {
  const line = el("li", "msg msg--routing");
  line.dataset.sender = "routing";
  const head = el("p", "msg__head");
  head.append(el("span", "msg__who", "Routing decision"));
  const time = timeOfDay(item.t);
  if (time) head.append(time);
  line.append(head, el("p", "msg__text", decisionText(item)), reasonsList(item.reasons));
  return line;
}

function timelineItem(item) {
  switch (item.sender) {
    case "customer": {
      const who = typeof item.turn === "number" ? `Customer · turn ${item.turn + 1}` : "Customer (button)";
      const line = messageItem("customer", who, item.text, item.t, turnTools(item));
      if (typeof item.turn === "number") line.dataset.turn = String(item.turn);
      return line;
    }
    case "agent":
      return messageItem("agent", `${item.author || "Agent"} · agent`, item.text || "", item.t);
    case "routing":
      return routingItem(item);
    default:
      return messageItem("bot", "Assistant (bot)", item.text || "", item.t);
  }
}

function renderTimeline(data) {
  const note = data.timeline_note || "";
  lead.timelineNote.textContent = note;
  lead.timelineNote.hidden = !note;
  if (Array.isArray(data.timeline)) {
    lead.timeline.replaceChildren(...data.timeline.map(timelineItem));
    if (!data.timeline.length) lead.timeline.append(el("li", "msg msg--system", "No messages."));
    return;
  }
  // Without the tracker: the customer's words as the facts keep them.
  lead.timeline.replaceChildren(
    ...(data.customer_turns || []).map((text, turn) => timelineItem({ sender: "customer", text, turn }))
  );
}

/** The chart's points: the timeline's scored customer turns (else the facts' trajectory);
 * turns after the conversation was handed to a person are drawn as "while waiting". */
export function reviewPoints(data) {
  const c = data.conversation || {};
  const handoff = (c.decisions || []).find((d) => d.action === "escalate");
  const after = (t) => Boolean(handoff) && typeof t === "number" && t > handoff.t;
  if (Array.isArray(data.timeline)) {
    const points = data.timeline
      .filter((i) => i.sender === "customer" && typeof i.turn === "number" && i.emotion)
      .map((i) => ({
        turn: i.turn + 1,
        frustration: Number(i.emotion.frustration) || 0,
        urgency: Number(i.emotion.urgency) || 0,
        during: after(i.t),
      }));
    if (points.length) return points;
  }
  return (c.trajectory || []).map(([t, frustration, urgency], i) => ({
    turn: i + 1,
    frustration: Number(frustration) || 0,
    urgency: Number(urgency) || 0,
    during: after(t),
  }));
}

function renderChart(data) {
  const tree = state.thresholds ? emotionChart(reviewPoints(data), state.thresholds) : null;
  if (!tree) {
    lead.detailChart.replaceChildren(el("p", "chart-empty", "No emotion scores for this conversation."));
    return;
  }
  const svg = toElement(tree, document);
  lead.detailChart.replaceChildren(svg);
  layoutLegend(svg.querySelectorAll(".chart__legend > g"), (group) => {
    const text = group.querySelector("text");
    return text.getComputedTextLength() || text.textContent.length * 6.6;
  });
}
