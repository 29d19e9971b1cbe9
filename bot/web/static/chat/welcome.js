// The chat's opening: a greeting and a few suggestions, shown by the page itself as soon
// as it loads (no round trip). The bot greets nobody at session start (a returning
// customer's "Welcome back…" comes with the reply to their first message, see
// bot/actions/session.py), so this greeting is never said twice. A suggestion sends its
// text as if typed, so the bot's understanding, not a payload, decides what it means.

export const GREETING =
  "Hi! I'm Brightbasket's virtual assistant. I can track orders, sort out deliveries, " +
  "returns and refunds, billing, subscriptions and account access — and bring in a " +
  "person whenever you like. What can I help you with?";

export const SUGGESTIONS = ["Where is my order?", "Return an item", "I was charged twice", "Talk to a person"];
