// The console's JSON API (bot/web/console.py) and its live stream of server-sent events.
// Errors arrive as {"error": code, "message": explanation} and are thrown as ApiError.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const LOGIN_PATH = "/api/console/login";
let onUnauthorized = () => {};

/** Call `handler()` whenever the server answers 401 (the session has ended). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (e) {
    throw new ApiError(0, "network", "Can't reach the console server. Check the connection and try again.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    const message = (data && data.message) || `The server answered ${response.status} ${response.statusText}.`;
    const problem = new ApiError(response.status, (data && data.error) || "http_error", message);
    if (response.status === 401 && path !== LOGIN_PATH) onUnauthorized();
    throw problem;
  }
  return data || {};
}

export const handoffPath = (id, action) =>
  `/api/console/handoffs/${encodeURIComponent(id)}` + (action ? "/" + action : "");

// --- The live stream --------------------------------------------------------------------
let stream = null;
let reconnectTimer = null;
let listeners = null;

function parseEvent(event) {
  try {
    return JSON.parse(event.data);
  } catch (e) {
    return null;
  }
}

/**
 * Open GET /api/console/stream and keep it open. `handlers`:
 *   status(mode)   "connecting" | "live" | "reconnecting"
 *   queue(data), message(data), handoff(data)   one parsed event each (queue: the
 *                  snapshot first, then one delta per change; see delta.js)
 *   resync()       the server dropped events: fetch the state again
 *   signedOut()    the session ended (signed out here or in another tab, or expired)
 *   reconnected()  back after an outage (events may have been missed)
 *   active()       whether to keep trying (false once signed out)
 */
export function openStream(handlers) {
  listeners = handlers;
  connect(false);
}

export function closeStream() {
  clearTimeout(reconnectTimer);
  if (stream) stream.close();
  stream = null;
}

function connect(afterOutage) {
  closeStream();
  listeners.status(afterOutage ? "reconnecting" : "connecting");
  const source = new EventSource("/api/console/stream");
  stream = source;
  let outage = afterOutage;
  source.addEventListener("open", () => {
    listeners.status("live");
    // The stream starts with a fresh queue snapshot; messages of the open
    // conversation may have been missed while it was down.
    if (outage) listeners.reconnected();
    outage = false;
  });
  ["queue", "message", "handoff"].forEach((name) =>
    source.addEventListener(name, (e) => listeners[name](parseEvent(e)))
  );
  source.addEventListener("resync", () => listeners.resync());
  source.addEventListener("signed_out", () => {
    // The server closed the stream for good: reconnecting would only be refused.
    closeStream();
    listeners.signedOut();
  });
  source.addEventListener("error", () => {
    if (stream !== source) return;
    outage = true;
    listeners.status("reconnecting");
    if (source.readyState === EventSource.CLOSED) {
      // The server refused the stream (signed out, or restarting): the browser does not
      // retry that on its own, so check the session and try again.
      source.close();
      reconnectTimer = setTimeout(retry, 3000);
    }
  });
}

async function retry() {
  if (!listeners || !listeners.active()) return;
  try {
    await api("GET", "/api/console/me");
    if (listeners.active()) connect(true);
  } catch (e) {
    if (e.status !== 401) reconnectTimer = setTimeout(retry, 5000);
  }
}
