// Where the conversation stands with a person, read from what the server sends: a pure
// module (no DOM), so node's test runner checks it (tests/web/chat_handoff.test.mjs).
//
// The handoff's messages carry a structured marker in their custom payload, which
// socket.io delivers as a bot_uttered of its own:
//   {"sender": "bot", "handoff_status": "waiting", "queue": "orders_shipping", "team": "orders & shipping"}
//   {"sender": "bot", "handoff_status": "claimed", "handoff_agent": "Ava", "team": "support"}
//   {"sender": "bot", "handoff_status": "handed_back" | "resolved", "handoff_agent": "Ava"}
// A person's own messages are {"sender": "agent", "agent_name": "Ava", "text": "…"}.
// Servers (and stored transcripts) from before the marker send only the text, so the
// known sentences are recognised too.

export const BOT = "bot"; // the virtual assistant answers
export const WAITING = "waiting"; // a person is coming; the bot is silent
export const AGENT = "agent"; // a person holds the conversation; the bot is silent

// How long "Assistant is typing…" may stay up without a reply: the bot may rightly say
// nothing (a message relayed to a person, a reply lost on the way).
export const TYPING_TIMEOUT_MS = 8000;

const STATUS_PHASE = { waiting: WAITING, claimed: AGENT, handed_back: BOT, resolved: BOT };

const WAITING_TEXT = /^I'm bringing in a person from our (.+?) team\b/;
const JOINED_TEXT = /^(.+?) from our (.+?) team has joined\b/;
const ENDED_TEXTS = [
  /^(.+?) handed our conversation back to me\b/,
  /^(.+?) has marked this conversation as resolved\b/,
  /^It looks like our team closed your earlier conversation\b/,
];

const clean = (value) => (typeof value === "string" && value.trim() ? value.trim() : null);

/**
 * What one message from the server says about the handoff, or null if nothing:
 * `{phase, team, agent, joinedText}`. `joinedText` is true when the message is only the
 * announcement that a person joined (the chat shows a status line instead of a bubble).
 */
export function handoffUpdate(message) {
  if (!message || typeof message !== "object") return null;
  const status = clean(message.handoff_status);
  if (status && STATUS_PHASE[status]) {
    return {
      phase: STATUS_PHASE[status],
      team: clean(message.team),
      agent: clean(message.handoff_agent),
      joinedText: false,
    };
  }
  if (message.sender === AGENT) {
    return { phase: AGENT, team: null, agent: clean(message.agent_name), joinedText: false };
  }
  const text = clean(message.text);
  if (!text) return null;
  let match = WAITING_TEXT.exec(text);
  if (match) return { phase: WAITING, team: match[1], agent: null, joinedText: false };
  match = JOINED_TEXT.exec(text);
  if (match) return { phase: AGENT, team: match[2], agent: match[1], joinedText: true };
  for (const pattern of ENDED_TEXTS) {
    match = pattern.exec(text);
    if (match) return { phase: BOT, team: null, agent: clean(match[1]), joinedText: false };
  }
  return null;
}

/** The state a new conversation starts in. */
export const initialHandoff = () => ({ phase: BOT, team: null, agent: null });

/**
 * The state after `update`, and the status line to show (or null): a person is coming,
 * a person has joined. Applying the same news twice (the text, then its marker) changes
 * nothing the second time.
 */
export function applyHandoff(current, update) {
  if (!update) return { state: current, line: null };
  const state = {
    phase: update.phase,
    team: update.team || (update.phase === BOT ? null : current.team),
    agent: update.phase === BOT ? null : update.agent || current.agent,
  };
  let line = null;
  if (update.phase === WAITING && current.phase !== WAITING) {
    line = `A person from our ${state.team || "support"} team is joining…`;
  } else if (update.phase === AGENT && (current.phase !== AGENT || (state.agent && state.agent !== current.agent))) {
    line = `${state.agent || "A person from our team"} has joined the conversation`;
  }
  return { state, line };
}

/** The header's line for a connected chat in `state`. */
export function statusText(state) {
  if (state.phase === AGENT) {
    return state.agent ? `You're talking to ${state.agent} (Brightbasket support)` : "You're talking to a person from Brightbasket support";
  }
  if (state.phase === WAITING) return `Waiting for a person from our ${state.team || "support"} team`;
  return "Connected — we usually reply in seconds";
}

/** Whether "Assistant is typing…" may show: only while the bot answers. */
export const botAnswers = (state) => state.phase === BOT;
