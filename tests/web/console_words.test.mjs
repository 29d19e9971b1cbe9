// The console's words for internal names (bot/web/static/console/words.js), under node's
// own test runner: `node --test tests/web/*.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  channelLabel,
  conversationLabel,
  humanize,
  priorityWords,
  queueTitle,
} from "../../bot/web/static/console/words.js";

const TITLES = { orders_shipping: "Orders & shipping", account_security: "Account & security" };

test("channels in words, never Rasa's names", () => {
  assert.equal(channelLabel("socketio"), "Web chat");
  assert.equal(channelLabel("rest"), "REST API");
  assert.equal(channelLabel("telegram"), "Telegram");
  assert.equal(channelLabel("SocketIO"), "Web chat");
  assert.equal(channelLabel("bot.channels.rest"), "REST API");
  assert.equal(channelLabel("my_custom_channel"), "My custom channel");
  assert.equal(channelLabel(""), "Unknown channel");
  assert.equal(channelLabel(null), "Unknown channel");
});

test("a handoff reads as its channel and its conversation number", () => {
  assert.equal(conversationLabel({ channel: "socketio", id: 4 }), "Web chat · Conversation 4");
  assert.equal(conversationLabel({ channel: "rest", id: 12 }), "REST API · Conversation 12");
  assert.doesNotMatch(conversationLabel({ channel: "socketio", id: 4 }), /socketio|#/);
});

test("queues by their titles from the server, else in words", () => {
  assert.equal(queueTitle("orders_shipping", TITLES), "Orders & shipping");
  assert.equal(queueTitle("billing", TITLES), "Billing");
  assert.equal(queueTitle("vip_escalations", {}), "Vip escalations");
  assert.equal(queueTitle("general", null), "General");
  assert.equal(queueTitle("", {}), "General");
});

test("priorities in words; an unknown one reads as normal", () => {
  assert.equal(priorityWords("urgent"), "Urgent");
  assert.equal(priorityWords("high"), "High priority");
  assert.equal(priorityWords("normal"), "Normal priority");
  assert.equal(priorityWords("weird"), "Normal priority");
});

test("humanize: underscores and dashes become spaces, first letter up", () => {
  assert.equal(humanize("contacts_7d"), "Contacts 7d");
  assert.equal(humanize("order-lookup__form"), "Order lookup form");
  assert.equal(humanize(undefined), "");
});
