// Brightbasket web chat: talks to Rasa's socket.io channel (bot/channels/socketio.py).
// Every text is inserted with textContent, never innerHTML, so customer and bot text is
// always shown as text.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("chat-config").textContent);
  const log = document.getElementById("log");
  const statusEl = document.getElementById("status");
  const typing = document.getElementById("typing");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const sendButton = document.getElementById("send");
  const KEY_CUSTOMER = "bb_customer_id";
  const KEY_SESSION = "bb_session_id";

  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  // The customer id is stable across conversations (it is how a returning customer is
  // recognised); the session id names one conversation. ?customer=… overrides for demos.
  const params = new URLSearchParams(location.search);
  if (params.get("customer")) localStorage.setItem(KEY_CUSTOMER, params.get("customer"));
  const customerId = localStorage.getItem(KEY_CUSTOMER) || newId();
  localStorage.setItem(KEY_CUSTOMER, customerId);
  let sessionId = localStorage.getItem(KEY_SESSION) || newId();
  localStorage.setItem(KEY_SESSION, sessionId);

  function setStatus(text) { statusEl.textContent = text; }

  // Appends text to an element, turning http(s) URLs into links, all through text nodes.
  const URL_PATTERN = /https?:\/\/[^\s<>"“”]+[^\s<>"“”.,;:!?)]/g;
  function appendLinked(element, text) {
    let last = 0;
    for (const match of String(text).matchAll(URL_PATTERN)) {
      element.appendChild(document.createTextNode(text.slice(last, match.index)));
      const link = document.createElement("a");
      link.href = match[0];
      link.textContent = match[0];
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      element.appendChild(link);
      last = match.index + match[0].length;
    }
    element.appendChild(document.createTextNode(String(text).slice(last)));
  }

  function addMessage(sender, text, extra) {
    const item = document.createElement("li");
    item.className = "msg msg--" + sender;
    item.dataset.sender = sender;
    if (sender === "agent") {
      const who = document.createElement("span");
      who.className = "msg__who";
      who.textContent = (extra && extra.agent_name ? extra.agent_name : "Support agent") + " · human agent";
      item.appendChild(who);
    }
    const body = document.createElement("span");
    body.className = "msg__text";
    if (sender === "customer") {
      body.textContent = text;
    } else {
      appendLinked(body, text);  // help-center citations become links; still no innerHTML
    }
    item.appendChild(body);
    if (extra && Array.isArray(extra.quick_replies) && extra.quick_replies.length) {
      const replies = document.createElement("div");
      replies.className = "replies";
      extra.quick_replies.forEach((reply) => {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = reply.title;
        button.addEventListener("click", () => {
          replies.querySelectorAll("button").forEach((b) => (b.disabled = true));
          send(reply.payload, reply.title);
        });
        replies.appendChild(button);
      });
      item.appendChild(replies);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  const host = config.rasa_host || location.hostname;
  const socket = io(location.protocol + "//" + host + ":" + config.rasa_port, {
    path: config.socket_path,
    transports: ["websocket", "polling"],
  });

  socket.on("connect", () => {
    setStatus("Connected — we usually reply in seconds");
    socket.emit("session_request", { session_id: sessionId });
  });
  socket.on("session_confirm", (confirmed) => {
    sessionId = typeof confirmed === "string" ? confirmed : sessionId;
    localStorage.setItem(KEY_SESSION, sessionId);
    sendButton.disabled = false;
  });
  socket.on("disconnect", () => setStatus("Disconnected — reconnecting…"));
  socket.on("connect_error", () => setStatus("Can't reach the assistant — retrying…"));
  socket.on("bot_uttered", (message) => {
    typing.hidden = true;
    if (!message) return;
    const sender = message.sender === "agent" ? "agent" : "bot";
    if (message.text) addMessage(sender, message.text, message);
  });

  function send(text, shown) {
    if (!text || !text.trim()) return;
    addMessage("customer", shown || text);
    typing.hidden = false;
    socket.emit("user_uttered", {
      message: text,
      session_id: sessionId,
      customData: { customer_id: customerId },
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  document.getElementById("new-conversation").addEventListener("click", () => {
    sessionId = newId();
    localStorage.setItem(KEY_SESSION, sessionId);
    log.replaceChildren();
    addMessage("system", "New conversation started.");
    socket.emit("session_request", { session_id: sessionId });
  });

  // Show the conversation so far after a reload.
  fetch("/api/conversations/" + sessionId + "/messages")
    .then((r) => (r.ok ? r.json() : { messages: [] }))
    .then((data) => {
      if (log.children.length) return;
      data.messages.forEach((m) => addMessage(m.sender, m.text, m));
    })
    .catch(() => {});
})();
