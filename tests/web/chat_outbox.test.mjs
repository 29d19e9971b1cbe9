// The web chat's outbox (bot/web/static/chat/outbox.js): a message stays until the server
// acknowledges it, is sent again with the same id when the server asks, and is given up
// after MAX_SENDS sends.
import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFAULT_RETRY_MS, MAX_SENDS, Outbox, newMessageId } from "../../bot/web/static/chat/outbox.js";

function outbox() {
  let n = 0;
  return new Outbox(() => `id-${++n}`);
}

test("messages wait in order, each with its own id, until acknowledged", () => {
  const box = outbox();
  const first = box.add("where is my order?");
  const second = box.add("it's late");
  assert.deepEqual(
    box.unanswered().map((e) => [e.id, e.text]),
    [
      ["id-1", "where is my order?"],
      ["id-2", "it's late"],
    ]
  );
  assert.deepEqual(box.acknowledged(first, { status: "answered" }), { action: "done" });
  assert.deepEqual(box.unanswered(), [second]);
  assert.deepEqual(box.acknowledged(second, { status: "refused" }), { action: "done" });
  assert.deepEqual(box.unanswered(), []);
});

test("a failed message is sent again after the server's delay, with the same id", () => {
  const box = outbox();
  const entry = box.add("hi");
  entry.sends = 1;
  assert.deepEqual(box.acknowledged(entry, { status: "failed", retry_after: 2 }), {
    action: "resend",
    delayMs: 2000,
  });
  assert.equal(box.unanswered()[0].id, "id-1"); // still there, same id
  // A delay the server did not give, or an odd one: the default; never above 30 s.
  assert.equal(box.acknowledged(entry, { status: "failed" }).delayMs, DEFAULT_RETRY_MS);
  assert.equal(box.acknowledged(entry, { status: "failed", retry_after: "x" }).delayMs, DEFAULT_RETRY_MS);
  assert.equal(box.acknowledged(entry, { status: "failed", retry_after: 3600 }).delayMs, 30000);
  // No acknowledgement in time (the page says so itself): sent again at once.
  assert.equal(box.acknowledged(entry, { status: "failed", retry_after: 0 }).delayMs, 0);
});

test("after MAX_SENDS failed sends the message is given up", () => {
  const box = outbox();
  const entry = box.add("hi");
  entry.sends = MAX_SENDS;
  assert.deepEqual(box.acknowledged(entry, { status: "failed", retry_after: 2 }), {
    action: "give_up",
  });
  assert.deepEqual(box.unanswered(), []);
});

test("message ids are unique and fit the server's limit", () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newMessageId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.ok(id.length <= 128 && /^[\x21-\x7e]+$/.test(id));
});
