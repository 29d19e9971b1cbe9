// The handoff summary the routing step wrote: issue, why a person, next step, key facts,
// what the bot tried, and the customer's own words.
import { el } from "./page.js";
import { humanize } from "./words.js";

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

function summaryBlock(label, content, className) {
  const block = el("div", "summary__block" + (className ? " " + className : ""));
  block.append(el("h4", "summary__label", label), content);
  return block;
}

function factValue(value) {
  if (Array.isArray(value)) return value.join(", ");
  if (value && typeof value === "object") {
    return Object.entries(value)
      .map(([key, inner]) => `${humanize(key)}: ${Array.isArray(inner) ? inner.join(", ") : inner}`)
      .join("; ");
  }
  return String(value);
}

/** The summary section's children for one handoff. */
export function summaryBlocks(handoff) {
  const s = handoff.summary && typeof handoff.summary === "object" ? handoff.summary : {};
  const blocks = [el("h3", "summary__heading", "Summary")];
  blocks.push(summaryBlock("Issue", el("p", "summary__issue", s.issue || "No issue recorded.")));
  blocks.push(summaryBlock("Why a person", el("p", "", s.reason || handoff.reason || "Not recorded.")));
  if (s.next_step) blocks.push(summaryBlock("Suggested next step", el("p", "", s.next_step), "summary__block--next"));

  const facts = s.facts && typeof s.facts === "object" ? Object.entries(s.facts) : [];
  if (facts.length) {
    const list = el("dl", "facts");
    facts.forEach(([key, value]) => {
      const label = FACT_LABELS[key] || humanize(key);
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
  return blocks;
}
