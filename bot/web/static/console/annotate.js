// A lead's review of the open conversation: the annotations so far, and the form that
// adds one (POST /api/insights/conversations/{id}/annotations). The API's refusals are
// shown in words next to the form; a saved review updates the list and the dashboard.
import { api } from "./api.js";
import { NEEDS_TURN, annotationBody, annotationDetail, kindWords, utcTime } from "./measures.js";
import { el, lead, notify } from "./page.js";
import { state } from "./state.js";

let onSaved = () => {};

/** What else changes when a review is saved (the dashboard's reviews count). */
export function whenAnnotated(handler) {
  onSaved = handler;
}

const clipped = (text, limit) => (text.length > limit ? text.slice(0, limit - 1).trimEnd() + "…" : text);

function annotationItem(a, turns) {
  const item = el("li", "annotation annotation--" + a.kind);
  item.dataset.kind = a.kind;
  if (typeof a.turn === "number") item.dataset.turn = String(a.turn);
  const head = el("p", "annotation__head");
  head.append(el("strong", "annotation__kind", kindWords(a.kind)), " · ");
  const about = typeof a.turn === "number" ? `Turn ${a.turn + 1}` : "The whole conversation";
  head.append(el("span", "annotation__about", about));
  item.append(head);
  const text = a.text || (typeof a.turn === "number" ? turns[a.turn] : null);
  if (text) {
    const quote = el("blockquote", "quote");
    quote.append(el("p", "", text));
    item.append(quote);
  }
  const detail = annotationDetail(a);
  if (detail) item.append(el("p", "annotation__detail", detail));
  const tags = (a.detail && a.detail.tags) || [];
  if (tags.length) {
    const list = el("ul", "tags");
    list.setAttribute("aria-label", "Tags");
    tags.forEach((t) => list.append(el("li", "tag", t)));
    item.append(list);
  }
  if (a.note) item.append(el("p", "annotation__note", a.note));
  item.append(el("p", "annotation__by", `${a.author} · ${utcTime(a.created_at)}`));
  return item;
}

/** The open conversation's annotations, oldest first. */
export function renderAnnotations(data) {
  const turns = data.customer_turns || [];
  const items = (data.annotations || []).map((a) => annotationItem(a, turns));
  if (!items.length) items.push(el("li", "annotation annotation--none", "Not reviewed yet."));
  lead.annotations.replaceChildren(...items);
}

/** A fresh form for a newly opened conversation: its turns and the help-center articles. */
export function resetAnnotateForm(data) {
  lead.annotateForm.reset();
  lead.annotateError.textContent = "";
  lead.annotateForm.querySelectorAll("[aria-invalid]").forEach((f) => f.removeAttribute("aria-invalid"));
  const whole = el("option", "", "The whole conversation");
  whole.value = "";
  const turns = (data.customer_turns || []).map((text, i) => {
    const option = el("option", "", `Turn ${i + 1}: “${clipped(text, 70)}”`);
    option.value = String(i);
    return option;
  });
  lead.annotateTurn.replaceChildren(whole, ...turns);
  const none = el("option", "", "None — the help center has no answer");
  none.value = "";
  const articles = (data.articles || []).map((a) => {
    const option = el("option", "", a.title && a.title !== a.id ? `${a.title} (${a.id})` : a.id);
    option.value = a.id;
    return option;
  });
  lead.annotateArticle.replaceChildren(none, ...articles);
  showKindFields();
}

/** Only the fields the chosen kind takes. */
export function showKindFields() {
  const kind = lead.annotateKind.value;
  lead.annotateEmotion.hidden = kind !== "wrong_emotion";
  lead.annotateAnswer.hidden = kind !== "wrong_answer";
  lead.annotateEmotion.disabled = lead.annotateEmotion.hidden;
  lead.annotateAnswer.disabled = lead.annotateAnswer.hidden;
}

function formValues() {
  const values = {};
  for (const [key, value] of new FormData(lead.annotateForm).entries()) values[key] = value;
  return values;
}

function refuse(message, field) {
  lead.annotateError.textContent = message;
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}

export async function saveAnnotation() {
  const open = state.lead.open;
  if (!open || lead.annotateSave.disabled) return;
  const body = annotationBody(formValues());
  lead.annotateError.textContent = "";
  lead.annotateForm.querySelectorAll("[aria-invalid]").forEach((f) => f.removeAttribute("aria-invalid"));
  if (NEEDS_TURN.includes(body.kind) && body.turn === null) {
    refuse(`“${kindWords(body.kind)}” is about one customer turn: pick it under “About”.`, lead.annotateTurn);
    return;
  }
  const id = open.conversation.id;
  lead.annotateSave.disabled = true;
  try {
    const data = await api("POST", `/api/insights/conversations/${encodeURIComponent(id)}/annotations`, body);
    const current = state.lead.open;
    if (current && current.conversation.id === id) {
      current.annotations = [...(current.annotations || []), data.annotation];
      renderAnnotations(current);
      lead.annotateNote.value = "";
      lead.annotateTags.value = "";
    }
    notify("Review saved.", "success");
    onSaved(data.annotation);
  } catch (e) {
    if (e.status === 401) return;
    refuse(`Not saved: ${e.message}`, null);
  } finally {
    lead.annotateSave.disabled = false;
  }
}
