// The customer desk (admins only; bot/web/customer_desk.py): find what is held about a
// customer by their e-mail (counts), download all of it as one JSON file, or erase it
// from every store after typing the e-mail again. A third view beside the queue and the
// lead workspace; agents and leads never see it (and the API answers them 403).
// Everything from the server goes in as textContent.
import { api } from "./api.js";
import { desk, el, lead, notify, ui } from "./page.js";
import { state } from "./state.js";

const HASH = "#customers";
const PATH = "/api/console/customers/";
const MAX_EMAIL = 320;
// The parts of an export (find's counts) and of an erasure (what it removed), in words;
// others are shown by their key ("return requests", "payments").
const WORDS = {
  conversations: "Conversations",
  conversation_events: "Conversation events",
  handoffs: "Handoffs to a person",
  handoff_messages: "Messages in handoffs",
  cases: "Cases",
  conversation_facts: "Conversation facts",
  linked_conversations: "Linked conversations",
  annotations: "Lead annotations",
  consent: "Consent choices",
  account_events: "Account events",
  audit: "Audit log entries",
};
const FIRST = [
  "customer",
  "conversations",
  "conversation_events",
  "tracker_events",
  "handoffs",
  "handoff_messages",
  "cases",
];

let shown = null; // {email, customer, held}: the customer the desk shows
let token = 0; // bumps on every request and reset, so a late answer cannot show a stale one

const isAdmin = () => Boolean(state.user && state.user.role === "admin");

const partKey = (key) => String(key).replace(/ /g, "_"); // the erasure names parts in words

function partWords(key) {
  if (WORDS[partKey(key)]) return WORDS[partKey(key)];
  const words = String(key).replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// --- The view ---------------------------------------------------------------------------
/** Show the desk instead of the queue or the workspace (admins only). */
function showDesk(options) {
  if (!isAdmin()) return;
  ui.workspace.hidden = true;
  lead.insights.hidden = true;
  desk.section.hidden = false;
  [lead.viewQueue, lead.viewInsights].forEach((b) => b.removeAttribute("aria-current"));
  desk.view.setAttribute("aria-current", "page");
  if (location.hash !== HASH) history.replaceState(null, "", location.pathname + location.search + HASH);
  if (options && options.focus) desk.heading.focus();
}

/** Another view was picked (workspace.js shows it): the desk steps aside. */
function hideDesk() {
  desk.section.hidden = true;
  desk.view.removeAttribute("aria-current");
}

/** After signing in: admins get the desk's tab (and the desk if `address`, the page's
 * hash as it was before workspace.js picked a view, asks for it). */
export function enterCustomers(address) {
  desk.view.hidden = !isAdmin();
  if (isAdmin() && address === HASH) showDesk();
  else hideDesk();
}

/** After signing out: nothing of a customer stays on the page. */
export function leaveCustomers() {
  token += 1;
  hideDesk();
  desk.view.hidden = true;
  desk.findForm.reset();
  clearFound();
  clearRemoved();
  setError(desk.findError, desk.email, "");
}

// --- Find -------------------------------------------------------------------------------
function setError(box, field, message) {
  box.textContent = message;
  if (message) field.setAttribute("aria-invalid", "true");
  else field.removeAttribute("aria-invalid");
}

/** The e-mail as the API takes it, or why it is not one. */
function readEmail(field) {
  const email = field.value.trim();
  if (!email) return { error: "Type the customer's e-mail." };
  if (email.length > MAX_EMAIL) return { error: `An e-mail has at most ${MAX_EMAIL} characters.` };
  if (!email.slice(1, -1).includes("@")) {
    return { error: "That is not an e-mail: it needs an @, like name@example.com." };
  }
  return { email };
}

function counts(list, numbers) {
  const keys = Object.keys(numbers || {});
  keys.sort((a, b) => rank(a) - rank(b) || partWords(a).localeCompare(partWords(b)));
  list.replaceChildren(
    ...keys.flatMap((key) => {
      const dt = el("dt", null, partWords(key));
      const dd = el("dd", null, Number(numbers[key]).toLocaleString());
      dt.dataset.part = key;
      dd.dataset.part = key;
      if (!numbers[key]) dd.classList.add("desk__zero");
      return [dt, dd];
    })
  );
}

const rank = (key) => (FIRST.includes(partKey(key)) ? FIRST.indexOf(partKey(key)) : FIRST.length);

const who = (customer) => (customer.name ? `${customer.name} (${customer.id})` : `Customer ${customer.id}`);

function clearFound() {
  shown = null;
  desk.found.hidden = true;
  desk.held.replaceChildren();
  desk.foundHeading.textContent = "";
  closeErase();
}

function clearRemoved() {
  desk.removed.hidden = true;
  desk.removedList.replaceChildren();
  desk.removedHeading.textContent = "";
}

async function find() {
  const { email, error } = readEmail(desk.email);
  setError(desk.findError, desk.email, error || "");
  if (error) {
    desk.email.focus();
    return;
  }
  const mine = ++token;
  clearFound();
  clearRemoved();
  desk.find.disabled = true;
  desk.section.setAttribute("aria-busy", "true");
  try {
    const data = await api("POST", PATH + "find", { email });
    if (mine !== token) return;
    shown = { email, customer: data.customer, held: data.held };
    desk.foundHeading.textContent = who(data.customer);
    counts(desk.held, data.held);
    desk.found.hidden = false;
    desk.foundHeading.focus();
  } catch (e) {
    if (mine !== token || e.status === 401) return;
    setError(desk.findError, desk.email, e.message);
    desk.email.focus();
  } finally {
    desk.find.disabled = false;
    desk.section.removeAttribute("aria-busy");
  }
}

// --- Export -----------------------------------------------------------------------------
async function download() {
  if (!shown) return;
  const customer = shown.customer;
  desk.exportButton.disabled = true;
  try {
    const data = await api("POST", PATH + "export", { email: shown.email });
    const name = `customer-${String(customer.id).replace(/[^A-Za-z0-9_.-]/g, "_")}.json`;
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2) + "\n"], { type: "application/json" }));
    const link = el("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    notify(`Downloaded ${name}. The audit log records the export.`, "success");
  } catch (e) {
    if (e.status !== 401) notify("Could not export the customer's data: " + e.message, "error");
  } finally {
    desk.exportButton.disabled = false;
  }
}

// --- Erase ------------------------------------------------------------------------------
function openErase() {
  if (!shown) return;
  desk.eraseHelp.textContent =
    `Erasing removes ${who(shown.customer)} and everything above from every store: ` +
    "conversations, handoffs, cases, orders and their profile. It cannot be undone.";
  desk.eraseForm.hidden = false;
  desk.erase.setAttribute("aria-expanded", "true");
  desk.confirm.value = "";
  setError(desk.eraseError, desk.confirm, "");
  desk.confirm.focus();
}

function closeErase(options) {
  desk.eraseForm.hidden = true;
  desk.erase.setAttribute("aria-expanded", "false");
  desk.confirm.value = "";
  setError(desk.eraseError, desk.confirm, "");
  if (options && options.focus) desk.erase.focus();
}

async function erase() {
  if (!shown) return;
  const typed = desk.confirm.value.trim();
  if (typed.toLowerCase() !== shown.email.toLowerCase()) {
    const again = "Type the customer's e-mail again to confirm.";
    setError(desk.eraseError, desk.confirm, typed ? "That is not the same e-mail. " + again : again);
    desk.confirm.focus();
    return;
  }
  const mine = ++token;
  desk.eraseConfirm.disabled = true;
  desk.section.setAttribute("aria-busy", "true");
  try {
    const data = await api("POST", PATH + "erase", { email: shown.email, confirm: typed });
    if (mine !== token) return;
    clearFound();
    desk.findForm.reset();
    desk.removedHeading.textContent = "Erased " + who(data.customer);
    counts(desk.removedList, data.removed);
    desk.removed.hidden = false;
    desk.removedHeading.focus();
  } catch (e) {
    if (mine !== token || e.status === 401) return;
    setError(desk.eraseError, desk.confirm, e.message);
  } finally {
    desk.eraseConfirm.disabled = false;
    desk.section.removeAttribute("aria-busy");
  }
}

// --- Wiring -----------------------------------------------------------------------------
export function initCustomers() {
  desk.view.addEventListener("click", () => showDesk({ focus: true }));
  // workspace.js shows the queue or the workspace on these; the desk only steps aside.
  [lead.viewQueue, lead.viewInsights].forEach((button) => button.addEventListener("click", hideDesk));
  desk.findForm.addEventListener("submit", (event) => {
    event.preventDefault();
    find();
  });
  desk.email.addEventListener("input", () => {
    // What is shown is about the e-mail that was found, not one being typed.
    if (shown && desk.email.value.trim().toLowerCase() !== shown.email.toLowerCase()) clearFound();
    setError(desk.findError, desk.email, "");
  });
  desk.exportButton.addEventListener("click", download);
  desk.erase.addEventListener("click", () => (desk.eraseForm.hidden ? openErase() : closeErase({ focus: true })));
  desk.eraseCancel.addEventListener("click", () => closeErase({ focus: true }));
  desk.eraseForm.addEventListener("submit", (event) => {
    event.preventDefault();
    erase();
  });
  desk.eraseForm.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeErase({ focus: true });
  });
}
