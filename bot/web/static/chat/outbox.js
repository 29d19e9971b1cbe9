// The web chat's messages on their way: each gets an id, and stays here until the server
// acknowledges that it was answered (or refused). One the server could not handle (a
// server restarting) is sent again after the few seconds it asks for, with the same id;
// so is every message still here when the socket reconnects. The server answers a
// message whose turn it already stored from that turn, so sending again never runs it
// twice (bot/replayed_turns.py).

export const MAX_SENDS = 5; // then the customer is asked to send it again themselves
export const DEFAULT_RETRY_MS = 2000;
// How long the server may take to acknowledge a message (a turn takes a second or two;
// one waiting for its conversation's previous turns, longer); then it is sent again.
export const ACK_TIMEOUT_MS = 30000;

/** A new message id: a UUID where the browser has one (secure pages), else random. */
export function newMessageId() {
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === "function") {
    return globalThis.crypto.randomUUID();
  }
  const random = () => Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, "0");
  return "m-" + Date.now().toString(16) + "-" + random() + random();
}

export class Outbox {
  constructor(makeId = newMessageId) {
    this.makeId = makeId;
    this.entries = []; // {id, text, sends}, in the order typed
  }

  /** A message the customer typed: to be sent. */
  add(text) {
    const entry = { id: this.makeId(), text, sends: 0, inFlight: false };
    this.entries.push(entry);
    return entry;
  }

  /** What the customer sent and the server has not acknowledged, in order. */
  unanswered() {
    return this.entries.slice();
  }

  /**
   * What to do with the server's acknowledgement of `entry`: "done" (answered or
   * refused: it is dropped from here), "resend" (after `delayMs`) or "give_up" (sent
   * MAX_SENDS times: dropped; tell the customer).
   */
  acknowledged(entry, ack) {
    if (ack && ack.status === "failed") {
      if (entry.sends < MAX_SENDS) {
        const seconds = Number(ack.retry_after);
        const delayMs = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_RETRY_MS;
        return { action: "resend", delayMs: Math.min(delayMs, 30000) };
      }
      this.drop(entry);
      return { action: "give_up" };
    }
    this.drop(entry);
    return { action: "done" };
  }

  drop(entry) {
    this.entries = this.entries.filter((e) => e !== entry);
  }

  has(entry) {
    return this.entries.includes(entry);
  }
}
