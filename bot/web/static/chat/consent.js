// The customer's consent choices (issue 18): what the assistant may remember, one
// choice per purpose, each in the server's own words (GET/PUT /api/chat/consent,
// bot/web/chat.py). The "Privacy" button in the header opens the panel; the bot opens it
// too, with a message whose custom payload is {"consent": "ask"}, while the customer
// has not decided yet. A choice never made shows unticked; Save sends every box, so
// saving with nothing ticked records refusals, and the server keeps only what changed.
//
// Every text is inserted with textContent, never innerHTML.

export const CONSENT_KEY = "consent"; // core.constants.CUSTOM_CONSENT
export const CONSENT_ASK = "ask"; // core.constants.CONSENT_ASK
export const CONSENT_URL = "/api/chat/consent";
export const SAVED_TEXT = "Saved. You can change this at any time.";
const LOADING_TEXT = "Loading your choices…";
const SAVING_TEXT = "Saving…";
const LOAD_FAILED_TEXT = "Couldn't load your choices — please try again in a moment.";
const SAVE_FAILED_TEXT = "Couldn't save your choices — please try again in a moment.";
const TOO_MANY_TEXT = "That was a lot of changes at once — please try again in a minute.";

/** Whether a message from the server asks the chat to show the consent choices. */
export const asksForConsent = (message) =>
  Boolean(message) && typeof message === "object" && message[CONSENT_KEY] === CONSENT_ASK;

/** Whether any purpose in a GET /api/chat/consent answer was never decided. */
export const undecided = (data) =>
  !data || !Array.isArray(data.choices) || data.choices.some((choice) => typeof choice.granted !== "boolean");

/** The PUT body: every purpose shown, ticked or not ({purpose: true|false}). */
export function choicesBody(boxes) {
  const body = {};
  boxes.forEach((box) => (body[box.name] = box.checked));
  return body;
}

/**
 * The panel in chat.html (#consent), opened by the #privacy button. `token()` gives the
 * conversation's session token (the conversation whose choices these are), or null
 * while there is none yet. Returns {open, close, ask, reset}.
 */
export function consentPanel(token) {
  const toggle = document.getElementById("privacy");
  const panel = document.getElementById("consent");
  const title = document.getElementById("consent-title");
  const question = document.getElementById("consent-question");
  const list = document.getElementById("consent-choices");
  const form = document.getElementById("consent-form");
  const save = document.getElementById("consent-save");
  const result = document.getElementById("consent-result");
  let conversation = 0; // counts resets: an answer for an earlier conversation is dropped

  function say(text, kind) {
    result.textContent = text;
    result.dataset.kind = kind || "info";
  }

  function request(method, body) {
    const bearer = token();
    if (!bearer) return Promise.reject(new Error("no conversation yet"));
    const init = { method, headers: { Authorization: "Bearer " + bearer } };
    if (body) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const asked = conversation;
    return fetch(CONSENT_URL, init).then((response) => {
      if (asked !== conversation) throw new Error("another conversation");
      if (!response.ok) throw Object.assign(new Error("consent " + response.status), { status: response.status });
      return response.json();
    });
  }

  const boxes = () => [...list.querySelectorAll("input[type=checkbox]")];

  /** Show the server's question and choices; boxes already there keep their place
   * (and the focus), only their state and words change. */
  function render(data) {
    question.textContent = data.question;
    const choices = data.choices.filter((c) => c && typeof c.purpose === "string");
    const same = boxes().map((box) => box.name).join() === choices.map((c) => c.purpose).join();
    if (!same) {
      list.replaceChildren(
        ...choices.map((choice) => {
          const label = document.createElement("label");
          label.className = "consent__choice";
          const box = document.createElement("input");
          box.type = "checkbox";
          box.name = choice.purpose;
          box.id = "consent-" + choice.purpose;
          const text = document.createElement("span");
          text.className = "consent__text";
          label.append(box, text);
          return label;
        })
      );
    }
    choices.forEach((choice) => {
      const box = list.querySelector(`input[name="${CSS.escape(choice.purpose)}"]`);
      box.checked = choice.granted === true; // never decided: not ticked
      box.nextElementSibling.textContent = String(choice.text);
    });
    save.disabled = choices.length === 0;
  }

  function load() {
    save.disabled = true;
    say(LOADING_TEXT);
    return request("GET")
      .then((data) => {
        render(data);
        say("");
        return data;
      })
      .catch((error) => {
        if (error.message !== "another conversation") say(LOAD_FAILED_TEXT, "error");
        return null;
      });
  }

  function show() {
    panel.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
  }

  function focusFirstChoice() {
    const first = boxes()[0];
    if (first && !panel.hidden) first.focus();
  }

  /** Open the panel with the choices as they are now. */
  function open() {
    show();
    title.focus(); // announced at once; the first choice takes the focus once loaded
    return load().then((data) => {
      if (data) focusFirstChoice();
    });
  }

  function close() {
    const hadFocus = panel.contains(document.activeElement);
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    if (hadFocus) toggle.focus();
  }

  /** The bot asks: open the panel, unless it is open or every choice is made. */
  function ask() {
    if (!panel.hidden) return Promise.resolve();
    return request("GET")
      .then((data) => {
        if (!undecided(data) || !panel.hidden) return;
        render(data);
        say("");
        show();
        focusFirstChoice();
      })
      .catch(() => {}); // the Privacy button still opens it
  }

  /** A new conversation: its choices are its own. */
  function reset() {
    conversation += 1;
    close();
    list.replaceChildren();
    say("");
  }

  toggle.addEventListener("click", () => (panel.hidden ? open() : close()));
  document.getElementById("consent-close").addEventListener("click", close);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (save.disabled) return;
    save.disabled = true;
    say(SAVING_TEXT);
    request("PUT", choicesBody(boxes()))
      .then((data) => {
        render(data);
        say(SAVED_TEXT, "saved");
      })
      .catch((error) => {
        if (error.message === "another conversation") return;
        save.disabled = false;
        say(error.status === 429 ? TOO_MANY_TEXT : SAVE_FAILED_TEXT, "error");
      });
  });

  return { open, close, ask, reset };
}
