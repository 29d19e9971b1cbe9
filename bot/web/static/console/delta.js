// The live queue as a list kept up to date from the stream: a pure module (no DOM), so
// node's test runner checks it (tests/web/console_delta.test.mjs).
//
// The stream opens with a snapshot, {"handoffs": [...], "queues": {...}} (the same JSON
// as GET /api/console/queue); after that each change is one handoff:
//   {"delta": true, "handoffs": [entry], "removed": []}   added or changed
//   {"delta": true, "handoffs": [], "removed": [id]}      left the queue (closed)

// Queue order, as the server sorts it: priority, then the longest waiting, then id.
export const PRIORITY_ORDER = ["urgent", "high", "normal"];

function rank(priority) {
  const index = PRIORITY_ORDER.indexOf(priority);
  return index === -1 ? PRIORITY_ORDER.length : index;
}

export function queueOrder(a, b) {
  return (
    rank(a.priority) - rank(b.priority) ||
    (Number(a.created_at) || 0) - (Number(b.created_at) || 0) ||
    (Number(a.id) || 0) - (Number(b.id) || 0)
  );
}

const isEntry = (h) => Boolean(h) && typeof h === "object" && h.id !== undefined && h.id !== null;

/**
 * The queue after one stream event: a snapshot replaces `current`, a delta updates it
 * (entries by id, then removals), sorted in queue order. `current` is left unchanged;
 * an event that is neither gives null.
 */
export function applyQueueEvent(current, data) {
  if (!data || typeof data !== "object" || !Array.isArray(data.handoffs)) return null;
  if (!data.delta) return data.handoffs.filter(isEntry).slice().sort(queueOrder);
  const byId = new Map((current || []).map((h) => [String(h.id), h]));
  data.handoffs.filter(isEntry).forEach((h) => byId.set(String(h.id), h));
  (Array.isArray(data.removed) ? data.removed : []).forEach((id) => byId.delete(String(id)));
  return [...byId.values()].sort(queueOrder);
}
