// The web chat's reading of the handoff (bot/web/static/chat/handoff.js) and its
// opening (welcome.js), under node's own test runner: `node --test tests/web/*.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AGENT,
  BOT,
  TYPING_TIMEOUT_MS,
  WAITING,
  applyHandoff,
  botAnswers,
  handoffUpdate,
  initialHandoff,
  statusText,
} from "../../bot/web/static/chat/handoff.js";
import { GREETING, SUGGESTIONS } from "../../bot/web/static/chat/welcome.js";

// What bot/actions/handoff.py and bot/web/console.py send today (text only).
const WAITING_TEXT =
  "I'm bringing in a person from our orders & shipping team. You're next in line, and the " +
  "estimated wait is about a minute. They'll see everything we've discussed, so you won't " +
  "have to repeat yourself — and anything you write meanwhile goes straight to them.";
const JOINED_TEXT = "Ava from our support team has joined.";
const HANDED_BACK_TEXT =
  "Ava handed our conversation back to me, the virtual assistant. I still have the details — what else can I help with?";
const RESOLVED_TEXT =
  "Ava has marked this conversation as resolved. If you need anything else, just write — I'm here.";

/** Feed messages through the chat's state, collecting the status lines it shows. */
function replay(messages) {
  let state = initialHandoff();
  const lines = [];
  for (const m of messages) {
    const next = applyHandoff(state, handoffUpdate(m));
    state = next.state;
    if (next.line) lines.push(next.line);
  }
  return { state, lines };
}

test("an ordinary bot message says nothing about a handoff", () => {
  assert.equal(handoffUpdate({ text: "What's the order number?" }), null);
  assert.equal(handoffUpdate({ text: "" }), null);
  assert.equal(handoffUpdate(null), null);
  assert.equal(handoffUpdate("a string"), null);
  // "a person" in an ordinary sentence is not the handoff.
  assert.equal(handoffUpdate({ text: "If you'd rather talk to a person, I can bring one in right away." }), null);
});

test("the handoff text: a person from the named team is coming", () => {
  const update = handoffUpdate({ text: WAITING_TEXT });
  assert.deepEqual(update, { phase: WAITING, team: "orders & shipping", agent: null, joinedText: false });
  const { state, lines } = replay([{ text: WAITING_TEXT }]);
  assert.equal(state.phase, WAITING);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^A person from our orders & shipping team is joining/);
  assert.equal(statusText(state), "Waiting for a person from our orders & shipping team");
  assert.equal(botAnswers(state), false);
});

test("the structured marker alone, and the text followed by its marker, say it once", () => {
  const marker = { sender: "bot", handoff_status: "waiting", queue: "billing", team: "billing" };
  assert.deepEqual(replay([marker]).lines, [
    "A person from our billing team is joining…",
  ]);
  const both = replay([{ text: WAITING_TEXT }, { ...marker, team: "orders & shipping" }]);
  assert.equal(both.lines.length, 1);
  assert.equal(both.state.team, "orders & shipping");
});

test("the joined text becomes a status line, and the header names the person", () => {
  const update = handoffUpdate({ text: JOINED_TEXT });
  assert.equal(update.phase, AGENT);
  assert.equal(update.agent, "Ava");
  assert.equal(update.joinedText, true); // shown as a status line, not as a bot bubble
  const { state, lines } = replay([{ text: WAITING_TEXT }, { text: JOINED_TEXT }]);
  assert.deepEqual(lines.slice(1), ["Ava has joined the conversation"]);
  assert.equal(statusText(state), "You're talking to Ava (Brightbasket support)");
  assert.equal(botAnswers(state), false);
});

test("the joined marker, and a person's first message without any announcement", () => {
  const marker = { sender: "bot", handoff_status: "claimed", handoff_agent: "Ava", team: "support" };
  assert.deepEqual(replay([marker]).lines, ["Ava has joined the conversation"]);
  // The marker after its text adds nothing.
  assert.deepEqual(replay([{ text: JOINED_TEXT }, marker]).lines, ["Ava has joined the conversation"]);
  // No announcement reached the chat: the person's first message says it.
  const agentMessage = { sender: "agent", agent_name: "Ava", text: "Hi, I'm Ava." };
  const { state, lines } = replay([{ text: WAITING_TEXT }, agentMessage, { ...agentMessage, text: "Still there?" }]);
  assert.deepEqual(lines.slice(1), ["Ava has joined the conversation"]);
  assert.equal(state.agent, "Ava");
  assert.equal(handoffUpdate(agentMessage).joinedText, false); // the message itself is shown
});

test("another person taking over is announced", () => {
  const { lines } = replay([
    { sender: "agent", agent_name: "Ava", text: "Hi" },
    { sender: "agent", agent_name: "Ben", text: "Hi, Ben here" },
  ]);
  assert.deepEqual(lines, ["Ava has joined the conversation", "Ben has joined the conversation"]);
});

test("hand-back and resolve give the conversation back to the bot", () => {
  for (const text of [HANDED_BACK_TEXT, RESOLVED_TEXT]) {
    const { state } = replay([{ text: WAITING_TEXT }, { text: JOINED_TEXT }, { text }]);
    assert.equal(state.phase, BOT, text);
    assert.equal(state.agent, null);
    assert.equal(botAnswers(state), true);
    assert.equal(statusText(state), "Connected — we usually reply in seconds");
  }
  for (const status of ["handed_back", "resolved"]) {
    const marker = { sender: "bot", handoff_status: status, handoff_agent: "Ava" };
    assert.equal(replay([{ text: JOINED_TEXT }, marker]).state.phase, BOT);
  }
  const closed = "It looks like our team closed your earlier conversation. I'm the virtual assistant — how can I help?";
  assert.equal(replay([{ text: WAITING_TEXT }, { text: closed }]).state.phase, BOT);
});

test("an unknown marker status is ignored, a marker's text is never needed", () => {
  assert.equal(handoffUpdate({ handoff_status: "exploded" }), null);
  assert.equal(handoffUpdate({ handoff_status: "waiting" }).phase, WAITING);
  assert.equal(statusText(replay([{ handoff_status: "waiting" }]).state), "Waiting for a person from our support team");
});

test("typing gives up after a few seconds, not at once and not never", () => {
  assert.ok(TYPING_TIMEOUT_MS >= 5000 && TYPING_TIMEOUT_MS <= 15000);
});

test("the opening: a greeting and four short suggestions, one of them a person", () => {
  assert.match(GREETING, /What can I help you with\?$/);
  assert.equal(SUGGESTIONS.length, 4);
  assert.ok(SUGGESTIONS.includes("Talk to a person"));
  SUGGESTIONS.forEach((s) => assert.ok(s.length <= 24, s));
});
