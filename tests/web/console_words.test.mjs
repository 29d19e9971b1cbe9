// The console's words for internal names (bot/web/static/console/words.js), under node's
// own test runner: `node --test tests/web/*.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { toMarkup } from "../../bot/web/static/console/chart.js";
import {
  channelGlyph,
  channelIcon,
  channelIconTree,
  channelLabel,
  conversationLabel,
  humanize,
  outcomeWords,
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

test("the messaging channels in words", () => {
  assert.equal(channelLabel("telegram"), "Telegram");
  assert.equal(channelLabel("slack"), "Slack");
  assert.equal(channelLabel("sms"), "SMS");
  assert.equal(channelLabel("twilio"), "SMS"); // rows from before WhatsApp was told apart
  assert.equal(channelLabel("whatsapp"), "WhatsApp");
  assert.equal(channelLabel("facebook"), "Messenger");
  assert.equal(conversationLabel({ channel: "whatsapp", id: 7 }), "WhatsApp · Conversation 7");
});

const CHANNELS = ["socketio", "rest", "telegram", "slack", "sms", "twilio", "whatsapp", "facebook"];

test("each channel's icon is an image named by its label, drawn in currentColor", () => {
  for (const channel of [...CHANNELS, "mattermost", "", null]) {
    const label = channelLabel(channel);
    const tree = channelIconTree(channel);
    assert.equal(tree.tag, "svg");
    assert.equal(tree.attrs.role, "img");
    assert.equal(tree.attrs["aria-label"], label);
    assert.equal(tree.attrs.stroke, "currentColor");
    const title = tree.children.find((n) => n.tag === "title");
    assert.equal(title && title.text, label, channel);
    assert.ok(tree.children.some((n) => n.tag === "path" && n.attrs.d), channel);
    // Drawn here: nothing fetched (the namespace aside), no colours of its own.
    const { xmlns, ...attrs } = tree.attrs;
    assert.equal(xmlns, "http://www.w3.org/2000/svg");
    assert.doesNotMatch(toMarkup({ ...tree, attrs }), /href|url\(|https?:|#[0-9a-f]{3,6}\b/i);
  }
});

test("one glyph per kind of channel; a channel class finds its channel's", () => {
  assert.equal(channelGlyph("socketio"), channelGlyph("rest")); // both a browser window
  assert.equal(channelGlyph("sms"), channelGlyph("twilio"));
  const kinds = ["socketio", "telegram", "slack", "sms", "whatsapp", "facebook", "mattermost"].map(channelGlyph);
  assert.equal(new Set(kinds).size, kinds.length);
  assert.equal(channelGlyph("bot.channels.telegram"), "plane");
  assert.equal(channelGlyph("SocketIO"), "window");
});

test("channelIcon builds the tree with the document it is given", () => {
  const created = [];
  const fakeDocument = {
    createElementNS(ns, tag) {
      const element = {
        ns,
        tag,
        attributes: {},
        children: [],
        textContent: "",
        setAttribute(k, v) {
          this.attributes[k] = v;
        },
        append(child) {
          this.children.push(child);
        },
      };
      created.push(element);
      return element;
    },
  };
  const svg = channelIcon("telegram", fakeDocument);
  assert.ok(created.every((e) => e.ns === "http://www.w3.org/2000/svg"));
  assert.equal(svg.attributes["aria-label"], "Telegram");
  assert.equal(svg.attributes.role, "img");
  assert.equal(svg.children[0].tag, "title");
  assert.equal(svg.children[0].textContent, "Telegram");
});

test("outcomes in words", () => {
  assert.equal(outcomeWords("bot"), "Resolved by the bot");
  assert.equal(outcomeWords("person"), "Resolved by a person");
  assert.equal(outcomeWords("abandoned"), "Abandoned");
  assert.equal(outcomeWords("still_open"), "Still open");
  assert.equal(outcomeWords(undefined), "Unknown outcome");
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
