// One conversation: header and actions, summary, emotion chart, the customer's other
// conversations (history.js), transcript, and what the agent does with it (claim, reply,
// note, resolve, hand back). Drafts survive switching.
import { api, handoffPath } from "./api.js";
import { chartPoints, emotionChart, layoutLegend, toElement } from "./chart.js";
import { forgetHistory, showHistory } from "./history.js";
import { channelTag, el, notify, priorityBadge, ui } from "./page.js";
import { renderQueue, waitElement } from "./queue.js";
import { STATUS_LABELS, agentLabel, customerName, isLead, state } from "./state.js";
import { summaryBlocks } from "./summary.js";
import { earlierItems, handoffMessageItem } from "./transcript.js";
import { conversationLabel, queueTitle } from "./words.js";

// --- Opening and closing ----------------------------------------------------------------
export async function openConversation(id, options) {
  const focus = (options && options.focus) || null;
  const token = ++state.loadToken;
  let data;
  try {
    data = await api("GET", handoffPath(id));
  } catch (e) {
    if (e.status !== 401) notify(e.message, "error");
    return;
  }
  if (token !== state.loadToken || !state.user) return;
  const same = state.open && state.open.id === id;
  if (!same) {
    saveDraft();
    const draft = state.drafts.get(id) || {};
    ui.replyText.value = draft.reply || "";
    ui.noteText.value = draft.note || "";
    ui.replyError.textContent = "";
    ui.noteError.textContent = "";
    ui.replyText.removeAttribute("aria-invalid");
    ui.noteText.removeAttribute("aria-invalid");
  }
  state.unread.delete(id);
  showConversation(data, same);
  showHistory(id); // loads once per opening; its failure stays inside its panel
  renderQueue();
  if (focus === "reply" && !ui.composers.hidden && !ui.replyForm.hidden) ui.replyText.focus();
  else if (focus) ui.title.focus();
}

export async function refreshConversation() {
  if (!state.open) return;
  const id = state.open.id;
  const token = state.loadToken;
  try {
    const data = await api("GET", handoffPath(id));
    if (token === state.loadToken && state.open && state.open.id === id) showConversation(data, true);
  } catch (e) {
    if (e.status === 401 || token !== state.loadToken) return;
    if (e.status === 403 || e.status === 404) {
      notify(e.message, "warning");
      closeConversation({ restoreFocus: true });
    }
  }
}

function saveDraft() {
  if (!state.open) return;
  const draft = { reply: ui.replyText.value, note: ui.noteText.value };
  if (draft.reply || draft.note) state.drafts.set(state.open.id, draft);
  else state.drafts.delete(state.open.id);
}

export function closeConversation(options) {
  const wasOpen = state.open ? state.open.id : null;
  saveDraft();
  state.loadToken += 1;
  state.open = null;
  forgetHistory();
  ui.workspace.classList.remove("workspace--open"); // a phone shows the queue again
  ui.conversation.hidden = true;
  ui.placeholder.hidden = false;
  ui.queue.querySelectorAll(".queue-item--current").forEach((item) => {
    item.classList.remove("queue-item--current");
    const open = item.querySelector(".queue-item__open");
    if (open) open.removeAttribute("aria-current");
  });
  if (options && options.restoreFocus && wasOpen !== null) {
    const item = ui.queue.querySelector(`.queue-item[data-id="${wasOpen}"] .queue-item__open`);
    (item || ui.queue).focus();
  }
}

function showConversation(data, keepScroll) {
  const handoff = data.handoff;
  const scroll = ui.body.scrollTop;
  state.open = {
    id: handoff.id,
    handoff,
    queueTitle: data.queue_title || queueTitle(handoff.queue, state.queues),
    messages: [],
    messageIds: new Set(),
  };
  ui.placeholder.hidden = true;
  ui.workspace.classList.add("workspace--open"); // a phone shows the conversation alone
  ui.conversation.hidden = false; // first, so the chart can measure its labels
  renderHeader();
  ui.summary.replaceChildren(...summaryBlocks(handoff));
  ui.transcript.replaceChildren(...earlierItems(handoff));
  (data.messages || []).forEach((m) => appendHandoffMessage(m));
  renderChart();
  ui.body.scrollTop = keepScroll ? scroll : 0;
}

function renderHeader() {
  const { handoff, queueTitle } = state.open;
  ui.title.textContent = customerName(handoff);
  ui.title.tabIndex = -1;

  const meta = [priorityBadge(handoff.priority), el("span", "meta__queue", queueTitle)];
  let statusText;
  if (handoff.status === "waiting") statusText = "Waiting";
  else if (handoff.status === "claimed") statusText = `Claimed by ${agentLabel(handoff.agent)}`;
  else statusText = STATUS_LABELS[handoff.status] || handoff.status;
  meta.push(el("span", "meta__status meta__status--" + handoff.status, statusText));
  if (handoff.status === "waiting" || handoff.status === "claimed") meta.push(waitElement(handoff));
  if (handoff.customer_email) meta.push(el("span", "meta__email", handoff.customer_email));
  const channel = channelTag(handoff.channel, "meta__channel", conversationLabel(handoff));
  channel.title = "Handoff #" + handoff.id;
  meta.push(channel);
  ui.meta.replaceChildren(...meta);

  const open = handoff.status === "waiting" || handoff.status === "claimed";
  const holds = handoff.status === "claimed" && (handoff.agent === state.user.username || isLead());
  ui.claim.hidden = handoff.status !== "waiting";
  ui.resolve.hidden = !holds;
  ui.handback.hidden = !holds;
  // Replies need the conversation held; a lead may also leave notes on a waiting one.
  ui.composers.hidden = !(holds || (open && isLead()));
  ui.replyForm.hidden = !holds;

  let hint = "";
  if (handoff.status === "waiting") hint = "Read-only. Claim this conversation to reply to the customer.";
  else if (handoff.status === "claimed" && !holds) hint = `Read-only. ${handoff.agent} holds this conversation.`;
  else if (!open) hint = `This conversation is closed (${statusText.toLowerCase()}).`;
  ui.readonlyHint.textContent = hint;
  ui.readonlyHint.hidden = !hint;
}

// --- Transcript and chart ---------------------------------------------------------------
function appendHandoffMessage(m) {
  if (!m || typeof m.text !== "string" || state.open.messageIds.has(m.id)) return false;
  state.open.messageIds.add(m.id);
  state.open.messages.push(m);
  ui.transcript.append(handoffMessageItem(m, state.open.handoff, state.thresholds));
  return true;
}

/** A new line for the open conversation (from the stream or the agent's own send). */
export function addMessage(m) {
  if (!state.open) return;
  const body = ui.body;
  const atBottom = body.scrollHeight - body.scrollTop - body.clientHeight < 80;
  if (!appendHandoffMessage(m)) return;
  if (m.sender === "customer") {
    ui.announcer.textContent = `${customerName(state.open.handoff)} wrote: ${m.text}`;
    if (m.emotion) renderChart();
  }
  if (atBottom || m.sender === "agent" || m.sender === "note") body.scrollTop = body.scrollHeight;
}

function renderChart() {
  if (!state.open) return;
  const { handoff, messages } = state.open;
  const timeline = handoff.summary && handoff.summary.emotion_timeline;
  const tree = emotionChart(chartPoints(timeline, messages), state.thresholds);
  if (!tree) {
    ui.chart.replaceChildren(el("p", "chart-empty", "No emotion scores for this conversation yet."));
    return;
  }
  const svg = toElement(tree, document);
  ui.chart.replaceChildren(svg);
  // Now on the page: space the legend by the width each label really takes.
  layoutLegend(svg.querySelectorAll(".chart__legend > g"), (group) => {
    const text = group.querySelector("text");
    return text.getComputedTextLength() || text.textContent.length * 6.6;
  });
}

// --- What the agent does ----------------------------------------------------------------
export async function claim(id, button) {
  if (button) button.disabled = true;
  try {
    await api("POST", handoffPath(id, "claim"));
    notify("You claimed this conversation.", "success");
    await openConversation(id, { focus: "reply" });
  } catch (e) {
    if (e.status !== 401) notify(e.message, "error");
  } finally {
    if (button) button.disabled = false;
  }
}

/** Send the reply ("reply") or the internal note ("note") typed in its box. */
export async function send(kind) {
  if (!state.open) return;
  const box = kind === "reply" ? ui.replyText : ui.noteText;
  const button = kind === "reply" ? ui.replySend : ui.noteSend;
  const errorArea = kind === "reply" ? ui.replyError : ui.noteError;
  const text = box.value;
  if (!text.trim() || button.disabled) return;
  const id = state.open.id;
  button.disabled = true;
  errorArea.textContent = "";
  box.removeAttribute("aria-invalid");
  try {
    const data = await api("POST", handoffPath(id, kind === "reply" ? "messages" : "notes"), { text });
    if (box.value === text) box.value = "";
    if (state.open && state.open.id === id && data.message) addMessage(data.message);
  } catch (e) {
    if (e.status === 401) return;
    // The text stays in the box so the agent can send it again.
    const what = kind === "reply" ? "Reply not sent" : "Note not saved";
    errorArea.textContent = `${what}: ${e.message}`;
    box.setAttribute("aria-invalid", "true");
    notify(`${what}: ${e.message}`, "error");
  } finally {
    button.disabled = false;
    box.focus();
  }
}

/** Close the open conversation: "resolve" or "handback" (to the bot). */
export async function finish(action) {
  if (!state.open) return;
  const id = state.open.id;
  const buttons = [ui.resolve, ui.handback];
  buttons.forEach((b) => (b.disabled = true));
  try {
    await api("POST", handoffPath(id, action));
    notify(action === "resolve" ? "Conversation resolved." : "Conversation handed back to the bot.", "success");
    if (state.open && state.open.id === id) closeConversation({ restoreFocus: false });
    state.drafts.delete(id);
    ui.queue.focus();
  } catch (e) {
    if (e.status !== 401) notify(e.message, "error");
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}
