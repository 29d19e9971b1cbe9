// Brightbasket agent console (bot/web/console.py): signing in and out, the live stream
// wired to the queue and the open conversation, keyboard and button handlers.
//
// Modules: api.js (JSON API, live stream), queue.js (queue, wait timers), delta.js (the
// queue from the stream's snapshot and deltas, a pure function), conversation.js (one
// conversation), summary.js, transcript.js, history.js (the customer's other
// conversations), chart.js (the emotion chart, a pure function), page.js (elements,
// builders), state.js (this tab's state), words.js (channels in words and as icons,
// queues, priorities and outcomes in words). Leads and admins also get the lead
// workspace beside the queue: workspace.js (views, range, tabs), dashboard.js, bars.js
// (its charts, pure), review.js (search and one conversation), annotate.js, measures.js
// (numbers and requests in words, pure). Admins also get the customer desk: customers.js
// (find, export and erase one customer's data).
// Every text from customers, agents or the server goes in as textContent, never as HTML.
import { api, closeStream, openStream, whenUnauthorized } from "./api.js";
import {
  addMessage,
  claim,
  closeConversation,
  finish,
  openConversation,
  refreshConversation,
  send,
} from "./conversation.js";
import { enterCustomers, initCustomers, leaveCustomers } from "./customers.js";
import { showAllHistory } from "./history.js";
import { clearNotice, el, notify, ui } from "./page.js";
import { onQueue, readQueueTitles, renderQueue, setQueueActions, tickWaits } from "./queue.js";
import { state } from "./state.js";
import { enterWorkspace, initWorkspace, leaveWorkspace } from "./workspace.js";

// --- Signing in and out -----------------------------------------------------------------
function showSignin(message) {
  ui.workspace.hidden = true;
  ui.session.hidden = true;
  ui.signin.hidden = false;
  ui.loginError.textContent = message || "";
  ui.loginSubmit.disabled = false;
  (ui.loginUsername.value ? ui.loginPassword : ui.loginUsername).focus();
}

/** Load what the console needs from the server (the routing thresholds), then show it. */
async function startSession(user) {
  const settings = await api("GET", "/api/console/settings");
  state.thresholds = settings.thresholds;
  signedIn(user);
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
  const address = location.hash; // showing a view rewrites it
  enterWorkspace(); // leads: the views bar, and the workspace when the address asks
  enterCustomers(address); // admins: the customer desk's tab (and the desk, if asked)
  openStream(streamHandlers);
}

function signedOut(message) {
  closeStream();
  closeConversation({ restoreFocus: false });
  state.user = null;
  state.handoffs = [];
  state.unread.clear();
  state.drafts.clear();
  ui.queue.replaceChildren();
  leaveWorkspace();
  leaveCustomers();
  showSignin(message);
}

whenUnauthorized(() => signedOut(state.user ? "Your session has ended. Sign in again." : ""));

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
    await startSession(data.user);
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
  closeStream(); // this tab signs out itself: the stream's "signed_out" is not news
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

// --- The live feed ----------------------------------------------------------------------
const LIVE_TEXT = { live: "Live", reconnecting: "Reconnecting…", connecting: "Connecting…" };

async function resync() {
  try {
    onQueue(await api("GET", "/api/console/queue"));
    if (state.open) refreshConversation();
  } catch (e) {
    if (e.status !== 401) notify("Could not refresh the queue: " + e.message, "error");
  }
}

const streamHandlers = {
  status(mode) {
    ui.live.dataset.state = mode;
    ui.live.textContent = LIVE_TEXT[mode];
  },
  queue: onQueue,
  message(data) {
    if (!data || !data.message) return;
    const id = Number(data.handoff_id);
    if (state.open && state.open.id === id) {
      addMessage(data.message);
    } else if (data.message.sender === "customer") {
      state.unread.set(id, (state.unread.get(id) || 0) + 1);
      renderQueue();
    }
  },
  handoff(data) {
    if (!data) return;
    const id = Number(data.id);
    if (data.created && data.priority === "urgent") notify("A new urgent conversation is waiting.", "warning");
    if (state.open && state.open.id === id) refreshConversation();
  },
  resync,
  signedOut() {
    if (state.user) signedOut("Your session has ended. Sign in again.");
  },
  reconnected() {
    if (state.open) refreshConversation();
  },
  active: () => Boolean(state.user),
};

// --- Buttons and keys -------------------------------------------------------------------
setQueueActions({ open: (id) => openConversation(id, { focus: "heading" }), claim });

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
ui.back.addEventListener("click", () => closeConversation({ restoreFocus: true }));
ui.notice.addEventListener("click", clearNotice);
ui.historyMore.addEventListener("click", showAllHistory);
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const typing = ["TEXTAREA", "INPUT"].includes(document.activeElement && document.activeElement.tagName);
  if (ui.notice.textContent) clearNotice();
  else if (state.open && !typing && ui.conversation.contains(document.activeElement)) {
    closeConversation({ restoreFocus: true });
  }
});
ui.queue.tabIndex = -1;

// --- Start ------------------------------------------------------------------------------
initWorkspace();
initCustomers();
readQueueTitles();
setInterval(tickWaits, 1000);
api("GET", "/api/console/me")
  .then((data) => startSession(data.user))
  .catch((e) => {
    if (e.status !== 401) showSignin(e.message);
  });
