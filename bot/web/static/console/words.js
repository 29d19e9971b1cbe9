// What the console shows instead of internal names: channels, queues, priorities,
// conversations. Pure functions (no DOM), tested with `node --test tests/web/`.

// Rasa's input channel names (`tracker.get_latest_input_channel()`), in words.
export const CHANNEL_LABELS = {
  socketio: "Web chat",
  rest: "REST API",
  rasa: "Rasa shell",
  cmdline: "Command line",
  callback: "Callback API",
  facebook: "Facebook Messenger",
  slack: "Slack",
  telegram: "Telegram",
  twilio: "SMS (Twilio)",
  twilio_voice: "Phone (Twilio Voice)",
  mattermost: "Mattermost",
  rocketchat: "Rocket.Chat",
  botframework: "Microsoft Teams / Bot Framework",
  webexteams: "Webex",
  hangouts: "Google Chat",
  audiocodes: "Phone (AudioCodes)",
};

export const PRIORITY_WORDS = { urgent: "Urgent", high: "High priority", normal: "Normal priority" };

/** "orders_shipping" → "Orders shipping": the last resort for a name with no title. */
export function humanize(name) {
  const words = String(name || "").replace(/[_-]+/g, " ").replace(/\s+/g, " ").trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : "";
}

/** The channel a conversation came in on, in words ("Web chat"). */
export function channelLabel(channel) {
  const key = String(channel || "").trim().toLowerCase();
  if (!key) return "Unknown channel";
  if (CHANNEL_LABELS[key]) return CHANNEL_LABELS[key];
  // A project's own channel class, e.g. "bot.channels.rest.SupportRestInput".
  const tail = key.split(".").pop();
  return CHANNEL_LABELS[tail] || humanize(String(channel).split(".").pop());
}

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
