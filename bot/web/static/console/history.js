// "Other conversations with this customer": the customer's conversations on every
// channel (GET /api/console/handoffs/{id}/history), in the conversation view. The server
// links them only when the handoff proves who the customer is (a verified identity, or
// the e-mail they matched); the page shows what it answers, and a failure here is one
// short line in the panel, never a broken view.
import { api, handoffPath } from "./api.js";
import { plural } from "./measures.js";
import { channelTag, el, ui } from "./page.js";
import { humanize, outcomeWords } from "./words.js";

const SHOWN = 5; // lines before "Show all"
const NOT_IDENTIFIED = "Customer not identified — conversations can't be linked without proof.";

let shownFor = null; // the handoff whose history the panel shows (or is loading)

/** Show the history of handoff `id`; nothing to do if the panel already shows it. */
export function showHistory(id) {
  if (shownFor === id) return;
  shownFor = id;
  load(id);
}

/** The conversation was closed: the next one opened loads its own history. */
export function forgetHistory() {
  shownFor = null;
}

async function load(id) {
  setStatus("Loading…");
  ui.historyList.replaceChildren();
  ui.historyMore.hidden = true;
  ui.history.setAttribute("aria-busy", "true");
  let data;
  try {
    data = await api("GET", handoffPath(id, "history"));
  } catch (e) {
    if (shownFor !== id) return;
    shownFor = null; // opening it again tries again
    ui.history.removeAttribute("aria-busy");
    if (e.status !== 401) setStatus("Couldn't load the customer's other conversations: " + e.message, "error");
    return;
  }
  if (shownFor !== id) return;
  ui.history.removeAttribute("aria-busy");
  render(data);
}

function setStatus(text, kind) {
  ui.historyStatus.textContent = text;
  ui.historyStatus.className = "history__status" + (kind ? " history__status--" + kind : "");
  ui.historyStatus.hidden = !text;
}

function render(data) {
  const conversations = Array.isArray(data && data.conversations) ? data.conversations : [];
  if (!data || !data.identified) {
    setStatus(NOT_IDENTIFIED, "unknown");
    ui.historyList.replaceChildren();
    return;
  }
  const others = conversations.filter((c) => !c.current).length;
  if (!conversations.length) setStatus("No conversations on record for this customer yet.");
  else if (!others) setStatus("No other conversations with this customer.");
  else setStatus("");
  const items = conversations.map(historyItem);
  items.forEach((item, i) => (item.hidden = i >= SHOWN));
  ui.historyList.replaceChildren(...items);
  ui.historyMore.hidden = items.length <= SHOWN;
  ui.historyMore.textContent = `Show all ${items.length}`;
}

/** Show the lines beyond the first few (the "Show all" button). */
export function showAllHistory() {
  ui.historyList.querySelectorAll("li[hidden]").forEach((item) => (item.hidden = false));
  ui.historyMore.hidden = true;
}

/** One conversation: channel, when, how long, what about, how it went. */
function historyItem(c) {
  const item = el("li", "history__item" + (c.current ? " history__item--current" : ""));
  const where = el("span", "history__where"); // wraps as a whole on a narrow screen
  where.append(channelTag(c.channel, "history__channel"));
  const when = startedAt(c.started_at);
  if (when) where.append(when);
  const how = el("span", "history__how");
  how.append(el("span", "history__turns", plural(Number(c.turns) || 0, "turn")));
  if (c.first_intent) how.append(el("span", "history__what", humanize(c.first_intent)));
  if (c.current) {
    how.append(el("strong", "history__current", "this conversation"));
  } else {
    how.append(el("span", "history__outcome history__outcome--" + c.outcome, outcomeWords(c.outcome)));
    if (typeof c.csat === "number") how.append(el("span", "history__csat", `rated ${c.csat}/5`));
  }
  item.append(where, how);
  return item;
}

function startedAt(epoch) {
  if (typeof epoch !== "number" || !Number.isFinite(epoch) || epoch <= 0) return null;
  const date = new Date(epoch * 1000);
  const text = date.toLocaleString([], {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
  const node = el("time", "history__when", text);
  node.dateTime = date.toISOString();
  return node;
}
