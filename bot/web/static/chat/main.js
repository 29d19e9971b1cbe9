// Brightbasket web chat: talks to Rasa's socket.io channel (bot/channels/socketio.py).
//
// Modules: handoff.js (where the conversation stands with a person, from what the server
// sends), welcome.js (the opening greeting and suggestions), consent.js (the "Privacy"
// panel: what the assistant may remember). Every text is inserted with
// textContent, never innerHTML, so customer, bot and agent text is always shown as text.
import {
  TYPING_TIMEOUT_MS,
  applyHandoff,
  botAnswers,
  handoffUpdate,
  initialHandoff,
  statusText,
} from "./handoff.js";
import { GREETING, SUGGESTIONS } from "./welcome.js";
import { asksForConsent, consentPanel } from "./consent.js";
import { ACK_TIMEOUT_MS, MAX_SENDS, Outbox } from "./outbox.js";

const config = JSON.parse(document.getElementById("chat-config").textContent);
const log = document.getElementById("log");
const statusEl = document.getElementById("status");
const typing = document.getElementById("typing");
const form = document.getElementById("composer");
const input = document.getElementById("message");
const KEY_TOKEN = "bb_session_token"; // this browser's conversation (localStorage)
const KEY_IDENTITY = "bb_identity_token"; // the website's signed identity (this tab only)
const KEY_SIGNED_IN = "bb_signed_in_as";

// Who the customer is comes only from an identity token signed by the company's website
// (here the demo sign-in page, /demo); the server checks it on every message. Which
// conversation this is comes from a session token the server issued for it.
if (config.identity_token) {
  sessionStorage.setItem(KEY_IDENTITY, config.identity_token);
  sessionStorage.setItem(KEY_SIGNED_IN, config.signed_in_as || "");
  history.replaceState(null, "", "/"); // a reload keeps the identity, not the sign-in link
}
const identityToken = sessionStorage.getItem(KEY_IDENTITY);
const signedInAs = sessionStorage.getItem(KEY_SIGNED_IN);
// A signed-in customer's conversation stays with the tab (sessionStorage), so whoever
// uses the browser next does not find it; an anonymous one stays with the browser.
const tokens = identityToken ? sessionStorage : localStorage;
let sessionId = null;
let sessionToken = config.fresh_session ? null : tokens.getItem(KEY_TOKEN);

/** The conversation to use: the stored one (its token refreshed), or a new one. */
async function openSession(fresh) {
  const response = await fetch("/api/chat/session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(fresh || !sessionToken ? { new: true } : { token: sessionToken }),
  });
  if (!response.ok) throw new Error("session " + response.status);
  const data = await response.json();
  sessionId = data.session_id;
  sessionToken = data.token;
  tokens.setItem(KEY_TOKEN, sessionToken);
  return data;
}

// --- What this tab knows ---------------------------------------------------------------
let connection = "connecting"; // "connecting" | "connected" | "disconnected" | "unreachable"
let ready = false; // the server confirmed the session: messages may go out
let outbox = new Outbox(); // messages sent (or to send) and not yet answered
let handoff = initialHandoff();
// The consent choices are the conversation's: the panel asks with its session token.
const consent = consentPanel(() => sessionToken);

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  disconnected: "Disconnected — reconnecting…",
  unreachable: "Can't reach the assistant — retrying…",
};

function renderStatus() {
  statusEl.textContent = connection === "connected" ? statusText(handoff) : CONNECTION_TEXT[connection];
  statusEl.dataset.phase = handoff.phase;
}

// --- "Assistant is typing…": only while the bot works on a reply -------------------------
let typingTimer = null;

function showTyping() {
  if (!botAnswers(handoff)) return; // a person holds the conversation (or is coming)
  typing.hidden = false;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
}

function hideTyping() {
  clearTimeout(typingTimer);
  typingTimer = null;
  typing.hidden = true;
}

// --- The log ---------------------------------------------------------------------------
// Appends text to an element, turning http(s) URLs into links, all through text nodes.
const URL_PATTERN = /https?:\/\/[^\s<>"“”]+[^\s<>"“”.,;:!?)]/g;
function appendLinked(element, text) {
  let last = 0;
  for (const match of String(text).matchAll(URL_PATTERN)) {
    element.appendChild(document.createTextNode(text.slice(last, match.index)));
    const link = document.createElement("a");
    link.href = match[0];
    link.textContent = match[0];
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    element.appendChild(link);
    last = match.index + match[0].length;
  }
  element.appendChild(document.createTextNode(String(text).slice(last)));
}

function scrollToEnd() {
  log.scrollTop = log.scrollHeight;
}

function replyButtons(tag, className, replies, onPick) {
  const box = document.createElement(tag);
  box.className = className;
  replies.forEach((reply) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = reply.title;
    button.addEventListener("click", () => {
      box.querySelectorAll("button").forEach((b) => (b.disabled = true));
      onPick(reply);
    });
    box.appendChild(button);
  });
  return box;
}

function addMessage(sender, text, extra) {
  const item = document.createElement("li");
  item.className = "msg msg--" + sender;
  item.dataset.sender = sender;
  if (sender === "agent") {
    const who = document.createElement("span");
    who.className = "msg__who";
    who.textContent = (extra && extra.agent_name ? extra.agent_name : "Support agent") + " · human agent";
    item.appendChild(who);
  }
  const body = document.createElement("span");
  body.className = "msg__text";
  if (sender === "customer") {
    body.textContent = text;
  } else {
    appendLinked(body, text); // help-center citations become links; still no innerHTML
  }
  item.appendChild(body);
  if (extra && Array.isArray(extra.quick_replies) && extra.quick_replies.length) {
    item.appendChild(replyButtons("div", "replies", extra.quick_replies, (reply) => send(reply.payload, reply.title)));
  }
  log.appendChild(item);
  scrollToEnd();
  return item;
}

/** A centred line about the conversation itself: a person is coming, has joined. */
function addStatusLine(text) {
  const item = document.createElement("li");
  item.className = "msg msg--status";
  item.dataset.sender = "status";
  item.textContent = text;
  log.appendChild(item);
  scrollToEnd();
}

/** The page's own opening: the greeting and the suggestions (removed once used). */
function addWelcome() {
  const item = addMessage("bot", GREETING);
  item.classList.add("msg--welcome");
  item.dataset.local = "welcome";
  const chips = replyButtons(
    "li",
    "suggestions",
    SUGGESTIONS.map((text) => ({ title: text, payload: text })),
    (reply) => send(reply.payload)
  );
  chips.setAttribute("aria-label", "Suggestions");
  chips.dataset.local = "welcome";
  log.appendChild(chips);
  scrollToEnd();
}

function removeSuggestions() {
  log.querySelectorAll(".suggestions").forEach((chips) => chips.remove());
}

/** Show one message of the server (live or from the stored transcript). */
function receive(message) {
  if (!message || typeof message !== "object") return;
  const update = handoffUpdate(message);
  const text = typeof message.text === "string" ? message.text : "";
  if (text && !(update && update.joinedText)) {
    addMessage(message.sender === "agent" ? "agent" : "bot", text, message);
  }
  const next = applyHandoff(handoff, update);
  handoff = next.state;
  if (next.line) addStatusLine(next.line);
  if (!botAnswers(handoff)) hideTyping();
  renderStatus();
}

// --- The socket ------------------------------------------------------------------------
const host = config.rasa_host || location.hostname;
const socket = io(location.protocol + "//" + host + ":" + config.rasa_port, {
  path: config.socket_path,
  transports: ["websocket", "polling"],
  autoConnect: false, // connects once the session token is there
  auth: (callback) => callback({ token: sessionToken }),
});

/** Send one message of the outbox; again, with its id, when the server asks for that. */
function emit(entry) {
  if (!outbox.has(entry) || entry.inFlight) return; // answered, or on its way already
  if (entry.sends >= MAX_SENDS) return giveUp(entry);
  entry.sends += 1;
  entry.inFlight = true;
  const sentTo = outbox;
  // No acknowledgement in time (a socket that died with the message on it) counts as a
  // failure: sent again, with its id.
  socket.timeout(ACK_TIMEOUT_MS).emit(
    "user_uttered",
    {
      message: entry.text,
      message_id: entry.id,
      session_id: sessionId,
      customData: identityToken ? { identity_token: identityToken } : {},
    },
    (error, ack) => {
      entry.inFlight = false;
      if (sentTo !== outbox || !outbox.has(entry)) return; // a new conversation, or given up
      const next = outbox.acknowledged(entry, error ? { status: "failed", retry_after: 0 } : ack);
      if (next.action === "resend") setTimeout(() => ready && emit(entry), next.delayMs);
      else if (next.action === "give_up") giveUp(entry);
    }
  );
}

function giveUp(entry) {
  outbox.drop(entry);
  hideTyping();
  addStatusLine("A message didn't go through: “" + entry.text.slice(0, 60) + "”. Please send it again.");
}

socket.on("connect", () => {
  connection = "connected";
  renderStatus();
  socket.emit("session_request", { session_id: sessionId });
});
socket.on("session_confirm", (confirmed) => {
  sessionId = typeof confirmed === "string" ? confirmed : sessionId;
  ready = true;
  // What the customer sent while connecting, and what was sent but not answered before
  // the socket dropped (a server restarting), goes out now, in order, each with its id:
  // the server answers one it already handled from its stored turn.
  outbox.unanswered().forEach(emit);
});
socket.on("disconnect", () => {
  connection = "disconnected";
  ready = false;
  hideTyping();
  renderStatus();
});
socket.on("connect_error", () => {
  connection = "unreachable";
  renderStatus();
  // The server refused the token (expired, or its secret changed): socket.io will not
  // retry that by itself, so get the session again (a new one if it is gone).
  if (!socket.active) {
    openSession(false).then(() => setTimeout(() => socket.connect(), 2000)).catch(() => {});
  }
});
socket.on("bot_uttered", (message) => {
  hideTyping(); // the bot's first message ends "typing", whatever it says
  receive(message);
  // The bot asks for the choices live only (a stored transcript does not ask again).
  if (asksForConsent(message)) consent.ask();
});

function send(text, shown) {
  if (!text || !text.trim()) return;
  removeSuggestions();
  addMessage("customer", shown || text);
  showTyping();
  const entry = outbox.add(text);
  if (ready) emit(entry);
}

// --- The page --------------------------------------------------------------------------
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value;
  input.value = "";
  send(text);
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

document.getElementById("new-conversation").addEventListener("click", () => {
  handoff = initialHandoff();
  outbox = new Outbox(); // the old conversation's messages stay with it
  hideTyping();
  renderStatus();
  consent.reset();
  log.replaceChildren();
  addStatusLine("New conversation started.");
  addWelcome();
  ready = false;
  openSession(true)
    .then(() => {
      socket.disconnect();
      socket.connect();
    })
    .catch(() => addStatusLine("Couldn't start a new conversation — please reload the page."));
});

if (signedInAs) {
  const who = document.getElementById("signed-in");
  who.textContent = "Signed in as " + signedInAs;
  who.hidden = false;
}
renderStatus();
addWelcome();

/** A reloaded page shows the conversation so far (from the tracker store) in place of
 * the opening, and picks up where the conversation stands with a person. */
function showTranscript() {
  return fetch("/api/conversations/" + encodeURIComponent(sessionId) + "/messages", {
    headers: { Authorization: "Bearer " + sessionToken },
  })
    .then((r) => (r.ok ? r.json() : { messages: [] }))
    .then((data) => {
      const messages = data && Array.isArray(data.messages) ? data.messages : [];
      const untouched = [...log.children].every((child) => child.dataset.local === "welcome");
      if (!messages.length || !untouched) return;
      log.replaceChildren();
      messages.forEach((m) => {
        if (m && m.sender === "customer") addMessage("customer", String(m.text || ""));
        else receive(m);
      });
    })
    .catch(() => {});
}

function start(attempt) {
  openSession(false)
    .then((session) => {
      socket.connect();
      if (!session.new) showTranscript();
    })
    .catch(() => {
      connection = "unreachable";
      renderStatus();
      setTimeout(() => start(attempt + 1), Math.min(30000, 2000 * 2 ** attempt));
    });
}
start(0);
