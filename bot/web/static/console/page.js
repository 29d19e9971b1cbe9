// The page's fixed elements and the small builders every view uses. Text always goes in
// with textContent, never as HTML.
import { PRIORITY_LABELS } from "./state.js";
import { channelIcon, channelLabel, priorityWords } from "./words.js";

const $ = (id) => document.getElementById(id);

export const ui = {
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
  back: $("back-to-queue"),
  body: $("conversation-body"),
  summary: $("summary"),
  chart: $("emotion-chart"),
  transcript: $("transcript"),
  history: $("history"),
  historyStatus: $("history-status"),
  historyList: $("history-list"),
  historyMore: $("history-more"),
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

// The lead workspace (leads and admins only; workspace.js, dashboard.js, review.js).
export const lead = {
  views: $("views"),
  viewQueue: $("view-queue"),
  viewInsights: $("view-insights"),
  insights: $("insights"),
  heading: $("insights-heading"),
  rangeForm: $("range-form"),
  since: $("range-since"),
  until: $("range-until"),
  channel: $("range-channel"),
  queue: $("range-queue"),
  rangeError: $("range-error"),
  exportCsv: $("export-csv"),
  exportJsonl: $("export-jsonl"),
  tabDashboard: $("tab-dashboard"),
  tabReview: $("tab-review"),
  dashboard: $("dashboard"),
  dashboardStatus: $("dashboard-status"),
  tiles: $("tiles"),
  panels: $("panels"),
  review: $("review"),
  reviewList: $("review-list"),
  searchForm: $("search-form"),
  searchError: $("search-error"),
  searchSubmit: $("search-submit"),
  resultsCount: $("results-count"),
  results: $("results"),
  more: $("results-more"),
  detail: $("review-detail"),
  detailBack: $("detail-back"),
  detailClose: $("detail-close"),
  detailTitle: $("detail-title"),
  detailMeta: $("detail-meta"),
  detailFacts: $("detail-facts"),
  detailChart: $("detail-chart"),
  decisions: $("detail-decisions"),
  timelineNote: $("timeline-note"),
  timeline: $("timeline"),
  annotations: $("annotations"),
  annotateForm: $("annotate-form"),
  annotateKind: $("annotate-kind"),
  annotateTurn: $("annotate-turn"),
  annotateEmotion: $("annotate-emotion"),
  annotateAnswer: $("annotate-answer"),
  annotateArticle: $("annotate-article"),
  annotateTags: $("annotate-tags"),
  annotateNote: $("annotate-note"),
  annotateSave: $("annotate-save"),
  annotateError: $("annotate-error"),
};

// The customer desk (admins only; customers.js).
export const desk = {
  view: $("view-customers"),
  section: $("customers"),
  heading: $("customers-heading"),
  findForm: $("customer-find-form"),
  email: $("customer-email"),
  find: $("customer-find"),
  findError: $("customer-find-error"),
  found: $("customer-found"),
  foundHeading: $("customer-found-heading"),
  held: $("customer-held"),
  exportButton: $("customer-export"),
  erase: $("customer-erase"),
  eraseForm: $("customer-erase-form"),
  eraseHelp: $("customer-erase-help"),
  confirm: $("customer-confirm"),
  eraseConfirm: $("customer-erase-confirm"),
  eraseCancel: $("customer-erase-cancel"),
  eraseError: $("customer-erase-error"),
  removed: $("customer-removed"),
  removedHeading: $("customer-removed-heading"),
  removedList: $("customer-removed-list"),
};

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

const pad = (n) => String(n).padStart(2, "0");

export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export function timeOfDay(epoch) {
  if (!epoch) return null;
  const date = new Date(epoch * 1000);
  if (Number.isNaN(date.getTime())) return null;
  const node = el("time", "msg__time", date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  node.dateTime = date.toISOString();
  return node;
}

export function priorityBadge(priority) {
  const key = PRIORITY_LABELS[priority] ? priority : "normal";
  const badge = el("span", "badge badge--" + key, priorityWords(key));
  badge.title = priorityWords(key);
  return badge;
}

/** The channel as its icon and its name: "[plane] Telegram" (`text` instead of the name).
 * The words say it, so the icon beside them is hidden from screen readers. */
export function channelTag(channel, className, text) {
  const tag = el("span", "channel" + (className ? " " + className : ""));
  const icon = channelIcon(channel, document);
  icon.setAttribute("aria-hidden", "true");
  tag.append(icon, el("span", "channel__label", text === undefined ? channelLabel(channel) : text));
  return tag;
}

let noticeTimer = null;

export function notify(text, kind) {
  clearTimeout(noticeTimer);
  ui.notice.className = "notice notice--" + (kind || "info");
  ui.notice.textContent = text;
  noticeTimer = setTimeout(clearNotice, kind === "error" ? 10000 : 5000);
}

export function clearNotice() {
  clearTimeout(noticeTimer);
  ui.notice.textContent = "";
  ui.notice.className = "notice";
}
