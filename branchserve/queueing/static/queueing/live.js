// What every queue page shares: the device token, API calls, and the live queue over a
// WebSocket that reconnects with backoff and resynchronises from a fresh snapshot (after a
// reconnect or a gap in the sequence) without reloading the page.
(function () {
  "use strict";
  var TOKEN_KEY = "branchserve.device.token";

  function token() {
    try { return localStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // fetch with the device token (if any) and, for a staff session, the CSRF token.
  // Resolves to {ok, status, body}; never rejects on an HTTP error.
  function api(method, url, body, extraHeaders) {
    var headers = { "Accept": "application/json" };
    var deviceToken = token();
    if (deviceToken) headers["Authorization"] = "Device " + deviceToken;
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      headers["X-CSRFToken"] = csrfToken();
    }
    Object.keys(extraHeaders || {}).forEach(function (k) { headers[k] = extraHeaders[k]; });
    return fetch(url, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.text().then(function (text) {
        var parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = null; }
        return { ok: response.ok, status: response.status, body: parsed };
      });
    });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(36).slice(2);
  }

  // Show the "pair this device first" notice instead of the page, if there is no token.
  function requireToken(noticeId) {
    if (token()) return true;
    var notice = document.getElementById(noticeId || "pair-notice");
    if (notice) notice.hidden = false;
    document.querySelectorAll("[data-needs-token]").forEach(function (el) { el.hidden = true; });
    return false;
  }

  // The live queue of ``outlet``. handlers: onState(state, reason) after a snapshot or an
  // event ("snapshot" or the event), onEvent(event, state) for each applied event,
  // onStatus("connecting" | "live" | "offline").
  function connect(outlet, handlers) {
    var LiveState = window.BranchserveLiveState;
    var state = null;
    var socket = null;
    var attempt = 0;
    var closedByUs = false;
    var resyncing = false;
    var timer = null;
    var status = function (s) { if (handlers.onStatus) handlers.onStatus(s); };

    function url() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      return scheme + location.host + "/ws/queue/outlets/" + encodeURIComponent(outlet) + "/";
    }

    function resync() {
      if (resyncing || !socket || socket.readyState !== WebSocket.OPEN) return;
      resyncing = true;
      socket.send(JSON.stringify({ type: "resync" }));
    }

    function onMessage(message) {
      var data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      if (data.type === "snapshot") {
        state = LiveState.fromSnapshot(data);
        resyncing = false;
        attempt = 0;
        status("live");
        if (handlers.onState) handlers.onState(state, "snapshot");
        return;
      }
      if (!state || resyncing) return;  // a fresh snapshot is on its way
      var result = LiveState.apply(state, data);
      if (result === "resync") { resync(); return; }
      if (result !== "applied") return;
      if (handlers.onEvent) handlers.onEvent(data, state);
      if (handlers.onState) handlers.onState(state, data);
    }

    function open() {
      clearTimeout(timer);
      status("connecting");
      var deviceToken = token();
      var protocols = deviceToken ? ["branchserve", "device." + deviceToken] : ["branchserve"];
      try {
        socket = new WebSocket(url(), protocols);
      } catch (e) {
        schedule();
        return;
      }
      socket.onmessage = onMessage;
      socket.onclose = function (event) {
        socket = null;
        resyncing = false;
        if (closedByUs) return;
        status("offline");
        if (event.code === 4401 || event.code === 4403 || event.code === 4404) {
          if (handlers.onRefused) handlers.onRefused(event.code);
        }
        schedule();
      };
    }

    function schedule() {
      // 0.5 s, 1 s, 2 s … up to 15 s, with jitter so a lobby's devices do not reconnect at once.
      var delay = Math.min(15000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() * 0.5);
      attempt += 1;
      timer = setTimeout(open, delay);
    }

    open();
    return {
      state: function () { return state; },
      resync: resync,
      close: function () { closedByUs = true; clearTimeout(timer); if (socket) socket.close(); },
      // For tests: drop the connection as a network failure would.
      drop: function () { if (socket) socket.close(); }
    };
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "class") node.className = attrs[key];
      else if (key.indexOf("data-") === 0 || key === "type" || key === "aria-label" || key === "title") node.setAttribute(key, attrs[key]);
      else node[key] = attrs[key];
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) {
      return values[name] === undefined || values[name] === null ? "" : String(values[name]);
    });
  }

  function minutesSince(iso, now) {
    return Math.max(0, Math.floor(((now || Date.now()) - Date.parse(iso)) / 60000));
  }

  window.BranchserveLive = {
    token: token,
    api: api,
    newKey: newKey,
    requireToken: requireToken,
    connect: connect,
    el: el,
    format: format,
    minutesSince: minutesSince
  };
})();
