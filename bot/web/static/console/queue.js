// The live queue: one item per open handoff, most urgent first, with per-queue counts
// and wait timers against each handoff's target.
import { applyQueueEvent } from "./delta.js";
import { channelTag, duration, el, priorityBadge, ui } from "./page.js";
import { PRIORITY_LABELS, agentLabel, customerName, nowSeconds, serverNow, state } from "./state.js";
import { queueTitle } from "./words.js";

let actions = { open: () => {}, claim: () => {} };

/** What a queue item's buttons do: `open(id)` shows the conversation, `claim(id, button)`. */
export function setQueueActions(handlers) {
  actions = handlers;
}

// --- Wait timers ------------------------------------------------------------------------
export function waitElement(h) {
  const wait = el("span", "wait");
  wait.dataset.created = String(h.created_at);
  wait.dataset.target = String(h.wait_target_seconds);
  if (h.status === "waiting") {
    wait.dataset.live = "1";
  } else {
    wait.dataset.waited = String(h.waited_seconds || 0);
  }
  updateWait(wait);
  return wait;
}

function updateWait(wait) {
  const target = Number(wait.dataset.target) || 0;
  let text;
  let waited;
  if (wait.dataset.live) {
    waited = serverNow() - Number(wait.dataset.created);
    text = `${duration(waited)} of ${duration(target)} target`;
  } else {
    waited = Number(wait.dataset.waited) || 0;
    text = `waited ${duration(waited)} of ${duration(target)} target`;
  }
  const over = waited > target;
  if (wait.textContent !== text) wait.textContent = text;
  wait.classList.toggle("wait--over", over);
  wait.title = over ? "Over the wait target" : "Within the wait target";
}

/** Advance every running wait timer on the page (once a second). */
export function tickWaits() {
  document.querySelectorAll(".wait[data-live]").forEach(updateWait);
}

// --- The list ---------------------------------------------------------------------------
/** A queue event from the stream (a snapshot, or a delta of one handoff) or the
 * snapshot GET /api/console/queue answers. */
export function onQueue(data) {
  const next = applyQueueEvent(state.handoffs, data);
  if (!next) return;
  state.handoffs = next;
  if (data.queues && typeof data.queues === "object") state.queues = data.queues;
  const waiting = data.handoffs.find((h) => h && h.status === "waiting" && typeof h.created_at === "number");
  if (waiting) state.clockOffset = waiting.created_at + Number(waiting.waited_seconds || 0) - nowSeconds();
  renderQueue();
}

function queueItem(h) {
  const item = el("li", "queue-item queue-item--" + (PRIORITY_LABELS[h.priority] ? h.priority : "normal"));
  item.dataset.id = String(h.id);
  item.dataset.status = h.status;
  const open = el("button", "queue-item__open");
  open.type = "button";
  if (state.open && state.open.id === h.id) {
    item.classList.add("queue-item--current");
    open.setAttribute("aria-current", "true");
  }

  const top = el("span", "queue-item__top");
  top.append(priorityBadge(h.priority), el("span", "queue-item__queue", queueTitle(h.queue, state.queues)));
  const unread = state.unread.get(h.id);
  if (unread) top.append(el("span", "queue-item__unread", unread === 1 ? "1 new message" : `${unread} new messages`));
  top.append(waitElement(h));
  open.append(
    top,
    el("span", "queue-item__name", customerName(h)),
    el("span", "queue-item__issue", h.issue || "No summary yet"),
    el("span", "queue-item__reason", h.reason ? "Why: " + h.reason : "")
  );
  open.addEventListener("click", () => actions.open(h.id));

  const foot = el("div", "queue-item__foot");
  foot.append(
    el(
      "span",
      "queue-item__status queue-item__status--" + h.status,
      h.status === "waiting" ? "Waiting" : `Claimed by ${agentLabel(h.agent)}`
    ),
    channelTag(h.channel, "queue-item__channel")
  );
  if (h.status === "waiting") {
    const claimButton = el("button", "button button--primary claim", "Claim");
    claimButton.type = "button";
    claimButton.setAttribute("aria-label", `Claim the conversation with ${customerName(h)}`);
    claimButton.addEventListener("click", () => actions.claim(h.id, claimButton));
    foot.append(claimButton);
  }
  item.append(open, foot);
  return item;
}

export function renderQueue() {
  // Re-rendering replaces the buttons: keep keyboard focus where it was.
  const active = document.activeElement;
  const activeItem = active && ui.queue.contains(active) ? active.closest(".queue-item") : null;
  const focusId = activeItem ? activeItem.dataset.id : null;
  const focusClaim = Boolean(active && active.classList.contains("claim"));

  ui.queue.replaceChildren(...state.handoffs.map(queueItem));

  const waiting = state.handoffs.filter((h) => h.status === "waiting");
  const perQueue = {};
  waiting.forEach((h) => (perQueue[h.queue] = (perQueue[h.queue] || 0) + 1));
  const ids = Object.keys(state.queues);
  Object.keys(perQueue).forEach((q) => ids.includes(q) || ids.push(q));
  ui.queueCounts.replaceChildren(
    ...ids.map((q) => {
      const row = el("li", perQueue[q] ? "queue-counts__row queue-counts__row--busy" : "queue-counts__row");
      row.dataset.queue = q;
      row.append(el("span", "queue-counts__title", queueTitle(q, state.queues)), el("span", "queue-counts__n", perQueue[q] || 0));
      return row;
    })
  );
  ui.queueTotal.textContent = `${waiting.length} waiting`;
  ui.queueEmpty.hidden = waiting.length > 0;
  document.title = (waiting.length ? `(${waiting.length}) ` : "") + "Brightbasket Support — Agent console";

  if (focusId !== null) {
    const again = ui.queue.querySelector(`.queue-item[data-id="${CSS.escape(focusId)}"]`);
    const target = again && ((focusClaim && again.querySelector(".claim")) || again.querySelector(".queue-item__open"));
    if (target) target.focus();
  }
}

/** The queue's counts as the page was rendered (before the first snapshot arrives). */
export function readQueueTitles() {
  ui.queueCounts.querySelectorAll("li[data-queue]").forEach((row) => {
    state.queues[row.dataset.queue] = row.querySelector(".queue-counts__title").textContent;
  });
}
