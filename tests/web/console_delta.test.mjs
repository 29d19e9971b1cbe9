// The console's live queue from the stream's snapshot and deltas
// (bot/web/static/console/delta.js), under node's own test runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyQueueEvent, queueOrder } from "../../bot/web/static/console/delta.js";

const entry = (id, priority, created_at, extra) => ({
  id,
  priority,
  created_at,
  status: "waiting",
  ...extra,
});
const ids = (list) => list.map((h) => h.id);

test("a snapshot replaces the queue and is put in queue order", () => {
  const before = [entry(9, "normal", 1)];
  const snapshot = { handoffs: [entry(1, "normal", 10), entry(2, "urgent", 20), entry(3, "high", 5)] };
  assert.deepEqual(ids(applyQueueEvent(before, snapshot)), [2, 3, 1]);
  assert.deepEqual(ids(before), [9]); // the old list is not changed in place
});

test("a delta adds one handoff in its place", () => {
  const queue = [entry(1, "urgent", 10), entry(2, "normal", 20)];
  const next = applyQueueEvent(queue, { delta: true, handoffs: [entry(3, "high", 30)], removed: [] });
  assert.deepEqual(ids(next), [1, 3, 2]);
});

test("a delta changes a handoff in place of the old entry, never twice", () => {
  const queue = [entry(1, "normal", 10), entry(2, "normal", 20)];
  const claimed = entry(2, "urgent", 20, { status: "claimed", agent: "dana" });
  const next = applyQueueEvent(queue, { delta: true, handoffs: [claimed], removed: [] });
  assert.deepEqual(ids(next), [2, 1]); // raised to urgent: first now
  assert.equal(next[0].status, "claimed");
  assert.equal(next.length, 2);
});

test("a delta removes a closed handoff, and an unknown id changes nothing", () => {
  const queue = [entry(1, "normal", 10), entry(2, "normal", 20)];
  assert.deepEqual(ids(applyQueueEvent(queue, { delta: true, handoffs: [], removed: [1] })), [2]);
  assert.deepEqual(ids(applyQueueEvent(queue, { delta: true, handoffs: [], removed: [7] })), [1, 2]);
  // Ids may arrive as numbers or strings.
  assert.deepEqual(ids(applyQueueEvent(queue, { delta: true, handoffs: [], removed: ["2"] })), [1]);
});

test("events that are not queue data are ignored", () => {
  const queue = [entry(1, "normal", 10)];
  assert.equal(applyQueueEvent(queue, null), null);
  assert.equal(applyQueueEvent(queue, { delta: true }), null);
  assert.equal(applyQueueEvent(queue, "queue"), null);
  const next = applyQueueEvent(queue, { delta: true, handoffs: [null, { no: "id" }], removed: [] });
  assert.deepEqual(ids(next), [1]);
});

test("queue order is priority, then waiting time, then id", () => {
  const list = [entry(5, "normal", 1), entry(4, "normal", 1), entry(3, "mystery", 0), entry(2, "high", 9)];
  assert.deepEqual(ids(list.sort(queueOrder)), [2, 4, 5, 3]);
});
