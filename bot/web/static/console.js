// Brightbasket agent console: sign-in, live queue, conversation view (bot/web/console.py).
// Every text from customers, agents or the server is inserted with textContent or text
// nodes, never as HTML; the emotion chart is built with createElementNS.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const SVG_NS = "http://www.w3.org/2000/svg";
  const ESCALATION_THRESHOLD = 0.8;
  const LEAD_ROLES = ["lead", "admin"];
  const PRIORITY_LABELS = { urgent: "Urgent", high: "High", normal: "Normal" };
  const STATUS_LABELS = { resolved: "Resolved", handed_back: "Handed back to the bot" };
  const FACT_LABELS = {
    orders: "Order",
    order_status: "Order status",
    emails: "Email",
    amounts: "Amount",
    name: "Name",
    tier: "Tier",
    contacts_7d: "Contacts (7 days)",
    open_cases: "Open cases",
  };

  const ui = {
    signin: $("signin"),
    loginForm: $("login-form"),
    loginUsername: $("login-username"),
    loginPassword: $("login-password"),
    loginSubmit: $("login-submit"),
    loginError: $("login-error"),
    session: $("session"),
    live: $("live-status"),
    whoami: $("whoami"),
    logout: $("logout"),
    workspace: $("workspace"),
    queue: $("queue"),
    queueEmpty: $("queue-empty"),
    queueCounts: $("queue-counts"),
    queueTotal: $("queue-total"),
    placeholder: $("conversation-placeholder"),
    conversation: $("conversation"),
    title: $("conversation-title"),
    meta: $("conversation-meta"),
    claim: $("conversation-claim"),
    resolve: $("resolve"),
    handback: $("handback"),
    close: $("close-conversation"),
    body: $("conversation-body"),
    summary: $("summary"),
    chart: $("emotion-chart"),
    transcript: $("transcript"),
    readonlyHint: $("readonly-hint"),
    composers: $("composers"),
    replyForm: $("reply-form"),
    replyText: $("reply-text"),
    replySend: $("reply-send"),
    replyError: $("reply-error"),
    noteForm: $("note-form"),
    noteText: $("note-text"),
    noteSend: $("note-send"),
    noteError: $("note-error"),
    notice: $("notice"),
    announcer: $("announcer"),
  };

  const state = {
    user: null,
    queues: {}, // queue id -> title; rendered into the page, then from every snapshot
    handoffs: [],
    clockOffset: 0, // server clock minus this browser's, in seconds
    stream: null,
    reconnectTimer: null,
    open: null, // {id, handoff, queueTitle, messages, messageIds}
    loadToken: 0, // bumps on every open/close, so a late answer cannot reopen a view
    unread: new Map(), // handoff id -> customer messages not seen yet
    drafts: new Map(), // handoff id -> {reply, note} typed but not sent
    noticeTimer: null,
  };

  // --- Small helpers ---------------------------------------------------------------------
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svgEl(tag, attributes, text) {
    const node = document.createElementNS(SVG_NS, tag);
    Object.entries(attributes || {}).forEach(([k, v]) => node.setAttribute(k, String(v)));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  const nowSeconds = () => Date.now() / 1000;
  const serverNow = () => nowSeconds() + state.clockOffset;
  const pad = (n) => String(n).padStart(2, "0");
  const isLead = () => Boolean(state.user && LEAD_ROLES.includes(state.user.role));
  const customerName = (h) => (h && h.customer_name && String(h.customer_name).trim()) || "Guest";

  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
  }

  function timeOfDay(epoch) {
    if (!epoch) return null;
    const date = new Date(epoch * 1000);
    if (Number.isNaN(date.getTime())) return null;
    const node = el("time", "msg__time", date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
    node.dateTime = date.toISOString();
    return node;
  }

  function agentLabel(username) {
    if (!username) return "nobody";
    return state.user && username === state.user.username ? "you" : username;
  }

  function priorityBadge(priority) {
    const key = PRIORITY_LABELS[priority] ? priority : "normal";
    const badge = el("span", "badge badge--" + key, PRIORITY_LABELS[key]);
    badge.title = PRIORITY_LABELS[key] + " priority";
    return badge;
  }

  function notify(text, kind) {
    clearTimeout(state.noticeTimer);
    ui.notice.className = "notice notice--" + (kind || "info");
    ui.notice.textContent = text;
    state.noticeTimer = setTimeout(clearNotice, kind === "error" ? 10000 : 5000);
  }

  function clearNotice() {
    clearTimeout(state.noticeTimer);
    ui.notice.textContent = "";
    ui.notice.className = "notice";
  }

  // --- The JSON API ----------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (e) {
      throw new ApiError(0, "network", "Can't reach the console server. Check the connection and try again.");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      const message = (data && data.message) || `The server answered ${response.status} ${response.statusText}.`;
      const problem = new ApiError(response.status, (data && data.error) || "http_error", message);
      if (response.status === 401 && path !== "/api/console/login") {
        signedOut(state.user ? "Your session has ended. Sign in again." : "");
      }
      throw problem;
    }
    return data || {};
  }

  const handoffPath = (id, action) =>
    `/api/console/handoffs/${encodeURIComponent(id)}` + (action ? "/" + action : "");

  // --- Signing in and out ----------------------------------------------------------------
  function showSignin(message) {
    ui.workspace.hidden = true;
    ui.session.hidden = true;
    ui.signin.hidden = false;
    ui.loginError.textContent = message || "";
    ui.loginSubmit.disabled = false;
    (ui.loginUsername.value ? ui.loginPassword : ui.loginUsername).focus();
  }

  function signedIn(user) {
    state.user = user;
    ui.whoami.replaceChildren(
      el("span", "whoami__name", user.display_name || user.username),
      el("span", "whoami__role", user.role)
    );
    ui.whoami.title = "Signed in as " + user.username;
    ui.signin.hidden = true;
    ui.session.hidden = false;
    ui.workspace.hidden = false;
    ui.loginPassword.value = "";
    ui.loginError.textContent = "";
    ui.queue.focus(); // the sign-in form is gone: start keyboard users at the queue
    connectStream(false);
  }

  function signedOut(message) {
    closeStream();
    closeConversation({ restoreFocus: false });
    state.user = null;
    state.handoffs = [];
    state.unread.clear();
    state.drafts.clear();
    ui.queue.replaceChildren();
    showSignin(message);
  }

  ui.loginForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = ui.loginUsername.value.trim();
    const password = ui.loginPassword.value;
    if (!username || !password) {
      ui.loginError.textContent = "Enter your username and your password.";
      (username ? ui.loginPassword : ui.loginUsername).focus();
      return;
    }
    ui.loginSubmit.disabled = true;
    ui.loginError.textContent = "";
    try {
      const data = await api("POST", "/api/console/login", { username, password });
      signedIn(data.user);
    } catch (e) {
      ui.loginError.textContent = e.message;
      ui.loginPassword.select();
      ui.loginPassword.focus();
    } finally {
      ui.loginSubmit.disabled = false;
    }
  });

  ui.logout.addEventListener("click", async () => {
    ui.logout.disabled = true;
    try {
      await api("POST", "/api/console/logout");
    } catch (e) {
      // Signed out in this tab either way.
    } finally {
      ui.logout.disabled = false;
    }
    state.user = null;
    signedOut("");
  });

  // --- The live feed ---------------------------------------------------------------------
  function setLive(mode) {
    ui.live.dataset.state = mode;
    ui.live.textContent = { live: "Live", reconnecting: "Reconnecting…", connecting: "Connecting…" }[mode];
  }

  function closeStream() {
    clearTimeout(state.reconnectTimer);
    if (state.stream) state.stream.close();
    state.stream = null;
  }

  function parseEvent(event) {
    try {
      return JSON.parse(event.data);
    } catch (e) {
      return null;
    }
  }

  function connectStream(afterOutage) {
    closeStream();
    setLive(afterOutage ? "reconnecting" : "connecting");
    const source = new EventSource("/api/console/stream");
    state.stream = source;
    let outage = afterOutage;
    source.addEventListener("open", () => {
      setLive("live");
      // The stream starts with a fresh queue snapshot; messages of the open
      // conversation may have been missed while it was down.
      if (outage && state.open) refreshConversation();
      outage = false;
    });
    source.addEventListener("queue", (e) => onQueue(parseEvent(e)));
    source.addEventListener("message", (e) => onMessage(parseEvent(e)));
    source.addEventListener("handoff", (e) => onHandoff(parseEvent(e)));
    source.addEventListener("resync", () => resync());
    source.addEventListener("error", () => {
      if (state.stream !== source) return;
      outage = true;
      setLive("reconnecting");
      if (source.readyState === EventSource.CLOSED) {
        // The server refused the stream (signed out, or restarting): the browser does not
        // retry that on its own, so check the session and try again.
        source.close();
        state.reconnectTimer = setTimeout(retryStream, 3000);
      }
    });
  }

  async function retryStream() {
    if (!state.user) return;
    try {
      await api("GET", "/api/console/me");
      if (state.user) connectStream(true);
    } catch (e) {
      if (e.status !== 401) state.reconnectTimer = setTimeout(retryStream, 5000);
    }
  }

  async function resync() {
    try {
      onQueue(await api("GET", "/api/console/queue"));
      if (state.open) refreshConversation();
    } catch (e) {
      if (e.status !== 401) notify("Could not refresh the queue: " + e.message, "error");
    }
  }

  function onQueue(data) {
    if (!data || !Array.isArray(data.handoffs)) return;
    state.handoffs = data.handoffs;
    if (data.queues && typeof data.queues === "object") state.queues = data.queues;
    const waiting = data.handoffs.find((h) => h.status === "waiting" && typeof h.created_at === "number");
    if (waiting) state.clockOffset = waiting.created_at + Number(waiting.waited_seconds || 0) - nowSeconds();
    renderQueue();
  }

  function onMessage(data) {
    if (!data || !data.message) return;
    const id = Number(data.handoff_id);
    if (state.open && state.open.id === id) {
      addMessage(data.message);
    } else if (data.message.sender === "customer") {
      state.unread.set(id, (state.unread.get(id) || 0) + 1);
      renderQueue();
    }
  }

  function onHandoff(data) {
    if (!data) return;
    const id = Number(data.id);
    if (data.created && data.priority === "urgent") notify("A new urgent conversation is waiting.", "warning");
    if (state.open && state.open.id === id) refreshConversation();
  }

  // --- The queue -------------------------------------------------------------------------
  function waitElement(h) {
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

  function tick() {
    document.querySelectorAll(".wait[data-live]").forEach(updateWait);
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
    top.append(priorityBadge(h.priority), el("span", "queue-item__queue", state.queues[h.queue] || h.queue));
    const unread = state.unread.get(h.id);
    if (unread) top.append(el("span", "queue-item__unread", unread === 1 ? "1 new message" : `${unread} new messages`));
    top.append(waitElement(h));
    open.append(
      top,
      el("span", "queue-item__name", customerName(h)),
      el("span", "queue-item__issue", h.issue || "No summary yet"),
      el("span", "queue-item__reason", h.reason ? "Why: " + h.reason : "")
    );
    open.addEventListener("click", () => openConversation(h.id, { focus: "heading" }));

    const foot = el("div", "queue-item__foot");
    foot.append(
      el(
        "span",
        "queue-item__status queue-item__status--" + h.status,
        h.status === "waiting" ? "Waiting" : `Claimed by ${agentLabel(h.agent)}`
      )
    );
    if (h.status === "waiting") {
      const claimButton = el("button", "button button--primary claim", "Claim");
      claimButton.type = "button";
      claimButton.setAttribute("aria-label", `Claim the conversation with ${customerName(h)}`);
      claimButton.addEventListener("click", () => claim(h.id, claimButton));
      foot.append(claimButton);
    }
    item.append(open, foot);
    return item;
  }

  function renderQueue() {
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
        row.append(el("span", "queue-counts__title", state.queues[q] || q), el("span", "queue-counts__n", perQueue[q] || 0));
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

  async function claim(id, button) {
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

  // --- One conversation ------------------------------------------------------------------
  async function openConversation(id, options) {
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
    renderQueue();
    if (focus === "reply" && !ui.composers.hidden && !ui.replyForm.hidden) ui.replyText.focus();
    else if (focus) ui.title.focus();
  }

  async function refreshConversation() {
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

  function closeConversation(options) {
    const wasOpen = state.open ? state.open.id : null;
    saveDraft();
    state.loadToken += 1;
    state.open = null;
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
      queueTitle: data.queue_title || state.queues[handoff.queue] || handoff.queue,
      messages: [],
      messageIds: new Set(),
    };
    ui.placeholder.hidden = true;
    ui.conversation.hidden = false; // first, so the chart can measure its labels
    renderHeader();
    renderSummary(handoff);
    renderTranscript(handoff, data.messages || []);
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
    const channel = el("span", "meta__channel", `${handoff.channel} · #${handoff.id}`);
    channel.title = "Conversation " + handoff.conversation_id;
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

  function summaryBlock(label, content, className) {
    const block = el("div", "summary__block" + (className ? " " + className : ""));
    block.append(el("h4", "summary__label", label), content);
    return block;
  }

  function factValue(value) {
    if (Array.isArray(value)) return value.join(", ");
    if (value && typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function renderSummary(handoff) {
    const s = handoff.summary && typeof handoff.summary === "object" ? handoff.summary : {};
    const blocks = [el("h3", "summary__heading", "Summary")];
    blocks.push(summaryBlock("Issue", el("p", "summary__issue", s.issue || "No issue recorded.")));
    blocks.push(summaryBlock("Why a person", el("p", "", s.reason || handoff.reason || "Not recorded.")));
    if (s.next_step) blocks.push(summaryBlock("Suggested next step", el("p", "", s.next_step), "summary__block--next"));

    const facts = s.facts && typeof s.facts === "object" ? Object.entries(s.facts) : [];
    if (facts.length) {
      const list = el("dl", "facts");
      facts.forEach(([key, value]) => {
        const label = FACT_LABELS[key] || key.charAt(0).toUpperCase() + key.slice(1).replace(/_/g, " ");
        list.append(el("dt", "", label), el("dd", "", factValue(value)));
      });
      blocks.push(summaryBlock("Key facts", list));
    }
    if (Array.isArray(s.tried) && s.tried.length) {
      const list = el("ul", "tried");
      s.tried.forEach((step) => list.append(el("li", "", step)));
      blocks.push(summaryBlock("What the bot tried", list));
    }
    if (Array.isArray(s.quotes) && s.quotes.length) {
      const quotes = el("div", "quotes");
      s.quotes.forEach((quote) => {
        const block = el("blockquote", "quote");
        block.append(el("p", "", quote));
        quotes.append(block);
      });
      blocks.push(summaryBlock("In the customer's words", quotes));
    }
    if (!Object.keys(s).length && handoff.summary_text) {
      blocks.push(el("p", "summary__text", handoff.summary_text));
    }
    ui.summary.replaceChildren(...blocks);
  }

  // --- Transcript ------------------------------------------------------------------------
  function messageItem(sender, who, text, at, extra) {
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

  function emotionTag(emotion) {
    if (!emotion || typeof emotion !== "object") return null;
    const parts = [];
    if (typeof emotion.frustration === "number") parts.push(`frustration ${emotion.frustration.toFixed(2)}`);
    if (typeof emotion.urgency === "number") parts.push(`urgency ${emotion.urgency.toFixed(2)}`);
    if (!parts.length) return null;
    const high = emotion.frustration >= ESCALATION_THRESHOLD || emotion.urgency >= ESCALATION_THRESHOLD;
    return el("p", "msg__emotion" + (high ? " msg__emotion--high" : ""), parts.join(" · "));
  }

  function handoffMessageItem(m) {
    const name = customerName(state.open.handoff);
    const author = m.author || "Agent";
    switch (m.sender) {
      case "customer":
        return messageItem("customer", name, m.text, m.created_at, emotionTag(m.emotion));
      case "agent":
        return messageItem("agent", `${author} · agent`, m.text, m.created_at);
      case "note":
        return messageItem("note", `Note · ${author} · internal, not sent to the customer`, m.text, m.created_at);
      default:
        return messageItem("system", "", m.text, m.created_at);
    }
  }

  function renderTranscript(handoff, messages) {
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
    ui.transcript.replaceChildren(...items);
    messages.forEach((m) => appendHandoffMessage(m));
  }

  function appendHandoffMessage(m) {
    if (!m || typeof m.text !== "string" || state.open.messageIds.has(m.id)) return false;
    state.open.messageIds.add(m.id);
    state.open.messages.push(m);
    ui.transcript.append(handoffMessageItem(m));
    return true;
  }

  function addMessage(m) {
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

  // --- Emotion chart ---------------------------------------------------------------------
  function emotionPoints() {
    const { handoff, messages } = state.open;
    const timeline = (handoff.summary && Array.isArray(handoff.summary.emotion_timeline))
      ? handoff.summary.emotion_timeline : [];
    const points = [];
    timeline.forEach((p, i) => {
      points.push({
        turn: Number(p.turn) || i + 1,
        frustration: Number(p.frustration) || 0,
        urgency: Number(p.urgency) || 0,
        during: false,
      });
    });
    let turn = points.reduce((most, p) => Math.max(most, p.turn), 0);
    messages.forEach((m) => {
      const e = m.sender === "customer" ? m.emotion : null;
      if (!e || (typeof e.frustration !== "number" && typeof e.urgency !== "number")) return;
      turn += 1;
      points.push({ turn, frustration: Number(e.frustration) || 0, urgency: Number(e.urgency) || 0, during: true });
    });
    return points;
  }

  function describeChart(points) {
    const last = points[points.length - 1];
    const peak = points.reduce((best, p) => (p.frustration > best.frustration ? p : best), points[0]);
    const over = points.filter((p) => p.frustration >= ESCALATION_THRESHOLD || p.urgency >= ESCALATION_THRESHOLD).length;
    const during = points.filter((p) => p.during).length;
    return (
      `Frustration and urgency over ${points.length} customer ${points.length === 1 ? "turn" : "turns"}` +
      (during ? ` (${during} while waiting for a person)` : "") +
      `, on a scale from 0 to 1. Latest turn ${last.turn}: frustration ${last.frustration.toFixed(2)}, ` +
      `urgency ${last.urgency.toFixed(2)}. Peak frustration ${peak.frustration.toFixed(2)} at turn ${peak.turn}. ` +
      `${over} ${over === 1 ? "turn reaches" : "turns reach"} the escalation threshold of ${ESCALATION_THRESHOLD}.`
    );
  }

  function renderChart() {
    if (!state.open) return;
    const points = emotionPoints();
    if (!points.length) {
      ui.chart.replaceChildren(el("p", "chart-empty", "No emotion scores for this conversation yet."));
      return;
    }
    const W = 460;
    const H = 230;
    const left = 40;
    const right = W - 16;
    const top = 36;
    const bottom = H - 44;
    const first = points[0].turn;
    const lastTurn = points[points.length - 1].turn;
    const span = Math.max(1, lastTurn - first);
    const x = (turn) =>
      lastTurn === first ? (left + right) / 2 : left + ((turn - first) / span) * (right - left);
    const y = (value) => bottom - Math.min(1, Math.max(0, value)) * (bottom - top);
    const description = describeChart(points);

    const svg = svgEl("svg", {
      viewBox: `0 0 ${W} ${H}`,
      class: "chart",
      role: "img",
      "aria-label": description,
    });
    svg.append(svgEl("title", {}, description));
    const line = (x1, y1, x2, y2, className) => svg.append(svgEl("line", { x1, y1, x2, y2, class: className }));
    const label = (tx, ty, className, text, anchor) =>
      svg.append(svgEl("text", { x: tx, y: ty, class: className, "text-anchor": anchor || "start" }, text));

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

    // The escalation threshold.
    line(left, y(ESCALATION_THRESHOLD), right, y(ESCALATION_THRESHOLD), "chart__threshold");
    label(left + 6, y(ESCALATION_THRESHOLD) - 5, "chart__note chart__note--threshold", "escalation threshold");

    [["frustration", "Frustration"], ["urgency", "Urgency"]].forEach(([key, name]) => {
      const path = points.map((p) => `${x(p.turn).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ");
      if (points.length > 1) svg.append(svgEl("polyline", { points: path, class: `chart__line chart__line--${key}` }));
      points.forEach((p) => {
        const dot = svgEl("circle", {
          cx: x(p.turn).toFixed(1),
          cy: y(p[key]).toFixed(1),
          r: p.during ? 4.5 : 3.5,
          class: `chart__dot chart__dot--${key}` + (p.during ? " chart__dot--during" : ""),
        });
        const when = `Turn ${p.turn}` + (p.during ? " (while waiting)" : "");
        dot.append(svgEl("title", {}, `${when}: ${name.toLowerCase()} ${p[key].toFixed(2)}`));
        svg.append(dot);
      });
    });

    // Legend: one group per entry, laid out by the width each label really takes.
    const legend = svgEl("g", { class: "chart__legend", transform: `translate(${left},14)` });
    const entry = (caption, ...marks) => {
      const group = svgEl("g");
      group.append(...marks, svgEl("text", { x: 22, y: 4, class: "chart__legend-text" }, caption));
      legend.append(group);
    };
    [["frustration", "Frustration"], ["urgency", "Urgency"]].forEach(([key, caption]) => {
      entry(
        caption,
        svgEl("line", { x1: 0, x2: 18, y1: 0, y2: 0, class: `chart__line chart__line--${key}` }),
        svgEl("circle", { cx: 9, cy: 0, r: 3, class: `chart__dot chart__dot--${key}` })
      );
    });
    entry("Threshold", svgEl("line", { x1: 0, x2: 18, y1: 0, y2: 0, class: "chart__threshold" }));
    if (firstDuring) {
      const ring = "chart__dot chart__dot--frustration chart__dot--during";
      entry("While waiting", svgEl("circle", { cx: 9, cy: 0, r: 4, class: ring }));
    }
    svg.append(legend);
    ui.chart.replaceChildren(svg);
    let lx = 0;
    legend.querySelectorAll(":scope > g").forEach((group) => {
      const text = group.querySelector("text");
      const width = text.getComputedTextLength() || text.textContent.length * 6.6;
      group.setAttribute("transform", `translate(${lx.toFixed(1)},0)`);
      lx += 22 + width + 14;
    });
  }

  // --- Agent actions ---------------------------------------------------------------------
  async function send(kind) {
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

  async function finish(action) {
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

  ui.replyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    send("reply");
  });
  ui.noteForm.addEventListener("submit", (event) => {
    event.preventDefault();
    send("note");
  });
  [[ui.replyText, ui.replyForm], [ui.noteText, ui.noteForm]].forEach(([box, form]) => {
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  });
  ui.claim.addEventListener("click", () => state.open && claim(state.open.id, ui.claim));
  ui.resolve.addEventListener("click", () => finish("resolve"));
  ui.handback.addEventListener("click", () => finish("handback"));
  ui.close.addEventListener("click", () => closeConversation({ restoreFocus: true }));
  ui.notice.addEventListener("click", clearNotice);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const typing = ["TEXTAREA", "INPUT"].includes(document.activeElement && document.activeElement.tagName);
    if (ui.notice.textContent) clearNotice();
    else if (state.open && !typing && ui.conversation.contains(document.activeElement)) {
      closeConversation({ restoreFocus: true });
    }
  });
  ui.queue.tabIndex = -1;

  // --- Start -----------------------------------------------------------------------------
  ui.queueCounts.querySelectorAll("li[data-queue]").forEach((row) => {
    state.queues[row.dataset.queue] = row.querySelector(".queue-counts__title").textContent;
  });
  setInterval(tick, 1000);
  api("GET", "/api/console/me").then(
    (data) => signedIn(data.user),
    (e) => {
      if (e.status !== 401) showSignin(e.message);
    }
  );
})();
