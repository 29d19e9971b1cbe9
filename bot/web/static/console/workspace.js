// The lead workspace beside the queue (roles lead and admin): switching views, the date
// range and filters every part uses, the dashboard and the review tabs, the exports.
// Agents never see it (and the API answers them 403).
import { api } from "./api.js";
import { saveAnnotation, showKindFields, whenAnnotated } from "./annotate.js";
import { renderDashboard } from "./dashboard.js";
import { defaultRange, queryString } from "./measures.js";
import { lead, notify, ui } from "./page.js";
import { closeReview, search } from "./review.js";
import { freshLead, isLead, state } from "./state.js";

const HASH = "#workspace";

// --- Views ------------------------------------------------------------------------------
/** Show the queue ("queue") or the lead workspace ("insights"; leads and admins only). */
export function showView(view, options) {
  const insights = view === "insights" && isLead();
  state.lead.view = insights ? "insights" : "queue";
  ui.workspace.hidden = insights;
  lead.insights.hidden = !insights;
  lead.viewQueue.removeAttribute("aria-current");
  lead.viewInsights.removeAttribute("aria-current");
  (insights ? lead.viewInsights : lead.viewQueue).setAttribute("aria-current", "page");
  const hash = insights ? HASH : "";
  if (location.hash !== hash) history.replaceState(null, "", location.pathname + location.search + hash);
  if (insights) {
    if (!state.lead.range) setRange(defaultRange());
    showTab(state.lead.tab, { load: true });
    if (options && options.focus) lead.heading.focus();
  } else if (options && options.focus) {
    ui.queue.focus();
  }
}

/** After signing in: leads get the views bar (and the workspace if the address asks). */
export function enterWorkspace() {
  lead.views.hidden = !isLead();
  showView(isLead() && location.hash === HASH ? "insights" : "queue");
}

/** After signing out: nothing of the workspace stays on the page. */
export function leaveWorkspace() {
  state.lead = freshLead();
  lead.views.hidden = true;
  lead.insights.hidden = true;
  lead.tiles.replaceChildren();
  lead.panels.replaceChildren();
  lead.dashboardStatus.textContent = "";
  lead.results.replaceChildren();
  lead.resultsCount.textContent = "";
  lead.more.hidden = true;
  lead.searchForm.reset();
  closeReview();
  [lead.rangeError, lead.searchError, lead.annotateError].forEach((p) => (p.textContent = ""));
}

// --- Range and filters ------------------------------------------------------------------
function setRange(range) {
  state.lead.range = range;
  lead.since.value = range.since || "";
  lead.until.value = range.until || "";
  lead.channel.value = range.channel || "";
  lead.queue.value = range.queue || "";
  updateExports();
}

function updateExports() {
  const range = state.lead.range || {};
  lead.exportCsv.href = "/api/insights/export" + queryString({ format: "csv", ...range });
  lead.exportJsonl.href = "/api/insights/export" + queryString({ format: "jsonl", ...range });
}

function readRange() {
  const range = {
    since: lead.since.value,
    until: lead.until.value,
    channel: lead.channel.value,
    queue: lead.queue.value,
  };
  if (!range.since || !range.until) return { error: "Pick both days of the range.", field: range.since ? lead.until : lead.since };
  if (range.until < range.since) return { error: "The range ends before it starts: pick a “To” day after “From”.", field: lead.until };
  return { range };
}

async function applyRange() {
  lead.rangeError.textContent = "";
  [lead.since, lead.until].forEach((f) => f.removeAttribute("aria-invalid"));
  const { range, error, field } = readRange();
  if (error) {
    lead.rangeError.textContent = error;
    field.setAttribute("aria-invalid", "true");
    field.focus();
    return;
  }
  setRange(range);
  state.lead.dashboardStale = true;
  state.lead.searched = false;
  showTab(state.lead.tab, { load: true });
}

// --- Tabs -------------------------------------------------------------------------------
export function showTab(tab, options) {
  const review = tab === "review";
  state.lead.tab = review ? "review" : "dashboard";
  lead.tabDashboard.setAttribute("aria-selected", String(!review));
  lead.tabReview.setAttribute("aria-selected", String(review));
  lead.tabDashboard.tabIndex = review ? -1 : 0;
  lead.tabReview.tabIndex = review ? 0 : -1;
  lead.dashboard.hidden = review;
  lead.review.hidden = !review;
  if (!options || !options.load) return;
  if (review && !state.lead.searched) search(false);
  if (!review && state.lead.dashboardStale) loadDashboard();
}

export async function loadDashboard() {
  const range = state.lead.range || defaultRange();
  state.lead.dashboardStale = false;
  lead.dashboard.setAttribute("aria-busy", "true");
  try {
    const data = await api("GET", "/api/insights/dashboard" + queryString(range));
    if (state.lead.range !== range && state.lead.range) return; // a newer range is loading
    state.lead.dashboard = data;
    renderDashboard(data);
  } catch (e) {
    state.lead.dashboardStale = true;
    if (e.status === 401) return;
    if (e.status === 400) lead.rangeError.textContent = e.message;
    else notify("Could not load the dashboard: " + e.message, "error");
  } finally {
    lead.dashboard.removeAttribute("aria-busy");
  }
}

// --- Wiring -----------------------------------------------------------------------------
export function initWorkspace() {
  [lead.viewQueue, lead.viewInsights].forEach((button) =>
    button.addEventListener("click", () => showView(button.dataset.view, { focus: true }))
  );
  lead.rangeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    applyRange();
  });
  [lead.tabDashboard, lead.tabReview].forEach((tab) => {
    tab.addEventListener("click", () => {
      if (tab === lead.tabDashboard) state.lead.dashboardStale = true; // fresh numbers on every visit
      showTab(tab === lead.tabReview ? "review" : "dashboard", { load: true });
    });
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      event.preventDefault();
      const other = tab === lead.tabReview ? lead.tabDashboard : lead.tabReview;
      other.focus();
      other.click();
    });
  });
  lead.searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    search(false);
  });
  lead.searchForm.addEventListener("reset", (event) => {
    // "Clear" searches again; the reset on signing out must not (it would answer 401).
    if (isLead()) setTimeout(() => search(false), 0);
  });
  lead.more.addEventListener("click", () => search(true));
  lead.detailBack.addEventListener("click", () => closeReview({ restoreFocus: true }));
  lead.detailClose.addEventListener("click", () => closeReview({ restoreFocus: true }));
  lead.annotateKind.addEventListener("change", showKindFields);
  lead.annotateForm.addEventListener("submit", (event) => {
    event.preventDefault();
    saveAnnotation();
  });
  whenAnnotated(() => {
    // The reviews count changes: fresh numbers when the dashboard is shown next.
    state.lead.dashboardStale = true;
    if (state.lead.tab === "dashboard" && !lead.insights.hidden) loadDashboard();
  });
  lead.detail.addEventListener("keydown", (event) => {
    const typing = ["TEXTAREA", "INPUT", "SELECT"].includes(event.target.tagName);
    if (event.key === "Escape" && !typing) closeReview({ restoreFocus: true });
  });
}
