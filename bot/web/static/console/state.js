// What the console knows in this tab: who is signed in, the queue, the open conversation.
// Every other module reads and updates this one object; only main.js resets it (and
// workspace.js its `lead` part, on signing out).

export const LEAD_ROLES = ["lead", "admin"];
export const PRIORITY_LABELS = { urgent: "Urgent", high: "High", normal: "Normal" };
export const STATUS_LABELS = { resolved: "Resolved", handed_back: "Handed back to the bot" };

export const state = {
  user: null,
  thresholds: null, // {escalate_at, urgent_at}: the routing thresholds, from /api/console/settings
  queues: {}, // queue id -> title; rendered into the page, then from every snapshot
  handoffs: [],
  clockOffset: 0, // server clock minus this browser's, in seconds
  open: null, // {id, handoff, queueTitle, messages, messageIds}
  loadToken: 0, // bumps on every open/close, so a late answer cannot reopen a view
  unread: new Map(), // handoff id -> customer messages not seen yet
  drafts: new Map(), // handoff id -> {reply, note} typed but not sent
  lead: freshLead(), // the lead workspace (workspace.js); agents never use it
};

/** The lead workspace's state as a fresh sign-in finds it. */
export function freshLead() {
  return {
    view: "queue", // "queue" | "insights"
    tab: "dashboard", // "dashboard" | "review"
    range: null, // {since, until, channel, queue}: what the dashboard and the search use
    dashboard: null, // the last GET /api/insights/dashboard answer
    dashboardStale: true, // reload it before showing it again (a review was saved, …)
    searched: false, // whether the review list has been loaded once
    next: null, // the cursor of the next page of results, or null
    open: null, // the conversation open in the review: the API's answer
    token: 0, // bumps on every conversation load, so a late answer cannot replace a newer one
    searchToken: 0, // the same for the search's pages
  };
}

export const nowSeconds = () => Date.now() / 1000;
export const serverNow = () => nowSeconds() + state.clockOffset;
export const isLead = () => Boolean(state.user && LEAD_ROLES.includes(state.user.role));
export const customerName = (h) => (h && h.customer_name && String(h.customer_name).trim()) || "Guest";

export function agentLabel(username) {
  if (!username) return "nobody";
  return state.user && username === state.user.username ? "you" : username;
}
