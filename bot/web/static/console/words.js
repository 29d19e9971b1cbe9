// What the console shows instead of internal names: channels (in words and as a small
// icon), queues, priorities, outcomes, conversations. Pure functions (no DOM): an icon is
// a plain tree of SVG nodes, turned into an element with the document it is given
// (chart.js's `toElement`). Tested with `node --test tests/web/`.
import { SVG_NS, toElement } from "./chart.js";

// Rasa's input channel names (`tracker.get_latest_input_channel()`), in words.
export const CHANNEL_LABELS = {
  socketio: "Web chat",
  rest: "REST API",
  rasa: "Rasa shell",
  cmdline: "Command line",
  callback: "Callback API",
  facebook: "Messenger",
  slack: "Slack",
  telegram: "Telegram",
  sms: "SMS",
  whatsapp: "WhatsApp",
  twilio: "SMS", // rows from before SMS and WhatsApp were told apart
  twilio_voice: "Phone (Twilio Voice)",
  mattermost: "Mattermost",
  rocketchat: "Rocket.Chat",
  botframework: "Microsoft Teams / Bot Framework",
  webexteams: "Webex",
  hangouts: "Google Chat",
  audiocodes: "Phone (AudioCodes)",
};

export const PRIORITY_WORDS = { urgent: "Urgent", high: "High priority", normal: "Normal priority" };

// How a conversation ended (insights' outcome, as if it ended now).
export const OUTCOME_WORDS = {
  bot: "Resolved by the bot",
  person: "Resolved by a person",
  abandoned: "Abandoned",
};

/** "orders_shipping" → "Orders shipping": the last resort for a name with no title. */
export function humanize(name) {
  const words = String(name || "").replace(/[_-]+/g, " ").replace(/\s+/g, " ").trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : "";
}

/** A channel's name as the tables above know it: "SocketIO" → "socketio". */
function channelKey(channel) {
  const key = String(channel || "").trim().toLowerCase();
  if (!key || CHANNEL_LABELS[key]) return key;
  // A project's own channel class, e.g. "bot.channels.rest.SupportRestInput".
  return key.split(".").pop();
}

/** The channel a conversation came in on, in words ("Web chat"). */
export function channelLabel(channel) {
  const key = channelKey(channel);
  if (!key) return "Unknown channel";
  return CHANNEL_LABELS[key] || humanize(String(channel).split(".").pop());
}

// --- Channel icons ------------------------------------------------------------------------
// Simple generic glyphs, drawn here on a 24 × 24 grid as strokes in currentColor (no
// brand logos, nothing fetched): the icon takes the colour of the text beside it.
const GLYPHS = {
  // A browser window: the web chat, and the REST API (websites and apps).
  window: ["M5 4h14a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z", "M3 9h18", "M6 6.5h.01M8.5 6.5h.01"],
  // A paper plane.
  plane: ["M21 3 3 10.5l7 2.5 3 8z", "M21 3 10 13"],
  // A hash.
  hash: ["M10 3 8 21", "M16 3l-2 18", "M4 8.5h16.5", "M3.5 15.5H20"],
  // A speech bubble with three dots: a text message.
  bubble: [
    "M5 4h14a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-8l-5 4v-4H5a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    "M8 10.5h.01M12 10.5h.01M16 10.5h.01",
  ],
  // A round bubble with a telephone handset inside.
  phoneBubble: [
    "M12 3a9 9 0 0 1 0 18 9 9 0 0 1-4.4-1.1L3 21l1.1-4.4A9 9 0 0 1 12 3z",
    "M9.5 8h1.2l.8 2-1 .8a5 5 0 0 0 2.7 2.7l.8-1 2 .8v1.2a1 1 0 0 1-1 1A6.5 6.5 0 0 1 8.5 9a1 1 0 0 1 1-1z",
  ],
  // An oval bubble with a lightning zigzag.
  boltBubble: [
    "M12 3c5 0 9 3.7 9 8.3s-4 8.3-9 8.3c-1 0-1.9-.1-2.8-.4L6 21v-3.3a8 8 0 0 1-3-6.4C3 6.7 7 3 12 3z",
    "M7.5 13.5 10.5 10l2.5 2.3L16.5 9",
  ],
  // A plain bubble: any other channel.
  chat: ["M5 4h14a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-8l-5 4v-4H5a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"],
};
const CHANNEL_GLYPHS = {
  socketio: "window",
  rest: "window",
  callback: "window",
  telegram: "plane",
  slack: "hash",
  sms: "bubble",
  twilio: "bubble",
  whatsapp: "phoneBubble",
  facebook: "boltBubble",
};

/** Which glyph a channel is drawn with ("plane" for Telegram; "chat" for any other). */
export const channelGlyph = (channel) => CHANNEL_GLYPHS[channelKey(channel)] || "chat";

/** The channel's icon as a plain tree of SVG nodes ({tag, attrs, text, children}): an
 * image named by its label (role, aria-label, and a <title> for the tooltip). */
export function channelIconTree(channel) {
  const label = channelLabel(channel);
  const glyph = channelGlyph(channel);
  const node = (tag, attrs, text, children) => ({ tag, attrs, text: text ?? null, children: children || [] });
  return node(
    "svg",
    {
      xmlns: SVG_NS,
      viewBox: "0 0 24 24",
      width: "16",
      height: "16",
      class: `channel-icon channel-icon--${glyph}`,
      role: "img",
      "aria-label": label,
      fill: "none",
      stroke: "currentColor",
      "stroke-width": "2",
      "stroke-linecap": "round",
      "stroke-linejoin": "round",
      focusable: "false",
    },
    null,
    [node("title", {}, label), ...GLYPHS[glyph].map((d) => node("path", { d }))]
  );
}

/** The channel's icon as an SVG element of `doc` (the page's document by default). */
export const channelIcon = (channel, doc = globalThis.document) => toElement(channelIconTree(channel), doc);

/** A queue's title from the server (`titles`), else its name in words. */
export function queueTitle(queue, titles) {
  const title = titles && typeof titles === "object" ? titles[queue] : null;
  return (typeof title === "string" && title.trim()) || humanize(queue) || "General";
}

/** "High priority"; an unknown priority reads as normal. */
export const priorityWords = (priority) => PRIORITY_WORDS[priority] || PRIORITY_WORDS.normal;

/** "Web chat · Conversation 4": where a handoff came from and its number. */
export const conversationLabel = (handoff) =>
  `${channelLabel(handoff && handoff.channel)} · Conversation ${handoff && handoff.id != null ? handoff.id : "?"}`;

/** "Resolved by the bot": a conversation's outcome in words. */
export const outcomeWords = (outcome) => OUTCOME_WORDS[outcome] || humanize(outcome) || "Unknown outcome";
