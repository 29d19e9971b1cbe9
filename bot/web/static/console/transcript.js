// Transcript lines: the conversation with the bot before the handoff, then the messages,
// replies, notes and system lines since. Text goes in with textContent only.
import { reachesThreshold } from "./chart.js";
import { el, timeOfDay } from "./page.js";
import { customerName } from "./state.js";

export function messageItem(sender, who, text, at, extra) {
  const kind = ["customer", "bot", "agent", "note", "system"].includes(sender) ? sender : "system";
  const item = el("li", "msg msg--" + kind);
  item.dataset.sender = kind;
  if (kind !== "system") {
    const head = el("div", "msg__head");
    head.append(el("span", "msg__who", who));
    const time = timeOfDay(at);
    if (time) head.append(time);
    item.append(head);
  }
  item.append(el("p", "msg__text", text));
  if (kind === "system") {
    const time = timeOfDay(at);
    if (time) item.append(time);
  }
  if (extra) item.append(extra);
  return item;
}

function emotionTag(emotion, thresholds) {
  if (!emotion || typeof emotion !== "object") return null;
  const parts = [];
  if (typeof emotion.frustration === "number") parts.push(`frustration ${emotion.frustration.toFixed(2)}`);
  if (typeof emotion.urgency === "number") parts.push(`urgency ${emotion.urgency.toFixed(2)}`);
  if (!parts.length) return null;
  const high = reachesThreshold(emotion, thresholds);
  return el("p", "msg__emotion" + (high ? " msg__emotion--high" : ""), parts.join(" · "));
}

/** One line of the handoff: a customer message (with its scores), reply, note or system line. */
export function handoffMessageItem(m, handoff, thresholds) {
  const author = m.author || "Agent";
  switch (m.sender) {
    case "customer":
      return messageItem("customer", customerName(handoff), m.text, m.created_at, emotionTag(m.emotion, thresholds));
    case "agent":
      return messageItem("agent", `${author} · agent`, m.text, m.created_at);
    case "note":
      return messageItem("note", `Note · ${author} · internal, not sent to the customer`, m.text, m.created_at);
    default:
      return messageItem("system", "", m.text, m.created_at);
  }
}

/** The conversation before the handoff, ending with the "Handed to a person" divider. */
export function earlierItems(handoff) {
  const items = [];
  const name = customerName(handoff);
  (Array.isArray(handoff.transcript) ? handoff.transcript : []).forEach((t) => {
    if (!t || typeof t.text !== "string") return;
    if (t.sender === "customer") items.push(messageItem("customer", name, t.text, t.timestamp));
    else if (t.sender === "agent") items.push(messageItem("agent", `${t.agent_name || "Agent"} · agent`, t.text, t.timestamp));
    else items.push(messageItem("bot", "Assistant (bot)", t.text, t.timestamp));
  });
  const divider = el("li", "msg msg--divider");
  divider.append(el("span", "", "Handed to a person"));
  const time = timeOfDay(handoff.created_at);
  if (time) divider.append(el("span", "", " · "), time);
  items.push(divider);
  return items;
}
