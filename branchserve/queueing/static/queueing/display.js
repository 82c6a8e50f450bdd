// The lobby call display: the current call per counter, the last 10 calls, and a voice
// announcement of each call that never overlaps another.
(function () {
  "use strict";
  var Live = window.BranchserveLive;
  var config = JSON.parse(document.getElementById("queue-config").textContent);
  var text = config.text;

  // One announcement at a time, first in first out: the next starts when the previous ends.
  // ``window.branchserveSpeech`` replaces the browser's speechSynthesis (tests, or a
  // display with its own speech engine).
  function Announcer() {
    var pending = [];
    var log = [];
    var speaking = false;

    function synth() { return window.branchserveSpeech || window.speechSynthesis || null; }

    function next() {
      if (speaking || pending.length === 0) return;
      var sentence = pending.shift();
      var engine = synth();
      var entry = { text: sentence, started: Date.now(), ended: null };
      log.push(entry);
      if (!engine || typeof window.SpeechSynthesisUtterance !== "function") {
        entry.ended = entry.started;
        entry.skipped = true;
        next();
        return;
      }
      speaking = true;
      var utterance = new window.SpeechSynthesisUtterance(sentence);
      utterance.lang = "zh-CN";
      utterance.rate = 0.9;
      var finished = false;
      var watchdog = null;
      function finish() {
        if (finished) return;
        finished = true;
        clearTimeout(watchdog);
        entry.ended = Date.now();
        speaking = false;
        setTimeout(next, 400);  // a short pause between two announcements
      }
      // Some engines never fire "end": give up waiting only once the engine is silent.
      function guard() {
        if (engine.speaking) watchdog = setTimeout(guard, 1000);
        else finish();
      }
      utterance.onend = finish;
      utterance.onerror = finish;
      watchdog = setTimeout(guard, 3000 + 300 * sentence.length);
      engine.speak(utterance);
    }

    return {
      announce: function (sentence) { pending.push(sentence); next(); },
      pending: function () { return pending.slice(); },
      log: log,
      spoken: function () { return log.map(function (e) { return e.text; }); },
      isSpeaking: function () { return speaking; }
    };
  }

  var announcer = Announcer();
  window.branchserveAnnouncer = announcer;
  if (!Live.requireToken()) return;

  var countersEl = document.getElementById("counters");
  var recentEl = document.getElementById("recent");
  var latestEl = document.getElementById("latest");
  var statusEl = document.getElementById("status");
  var el = Live.el;

  function sentence(call) {
    return Live.format(text.announce, { number: call.number, counter: call.counter_number });
  }

  function render(state) {
    document.getElementById("outlet-name").textContent = state.outlet_name;
    countersEl.replaceChildren.apply(countersEl, state.counters.map(function (c) {
      var current = c.ticket ? c.ticket.number : "";
      var note = c.status === "paused" ? text.paused : c.status === "closed" ? text.closed
        : current ? "" : text.idle;
      return el("li", { "class": "display-counter is-" + c.status, "data-counter": c.code }, [
        el("span", { "class": "display-counter-name", text: Live.format(text.counter, { number: c.number }) }),
        el("span", { "class": "display-counter-ticket", text: current }),
        note ? el("span", { "class": "display-counter-note", text: note }) : null
      ]);
    }));
    recentEl.replaceChildren.apply(recentEl, state.recent_calls.map(function (call) {
      return el("li", { "data-number": call.number }, [
        el("span", { "class": "recent-number", text: call.number }),
        el("span", { "class": "recent-counter", text: Live.format(text.counter, { number: call.counter_number }) })
      ]);
    }));
    if (state.recent_calls.length && !latestEl.textContent) {
      latestEl.textContent = sentence(state.recent_calls[0]);
    }
  }

  function onEvent(event) {
    if (event.type === "ticket.called" || event.type === "ticket.recalled") {
      var words = sentence(event.call);
      latestEl.textContent = words;
      latestEl.classList.remove("flash");
      void latestEl.offsetWidth;
      latestEl.classList.add("flash");
      announcer.announce(words);
    }
  }

  function tick() {
    var now = new Date();
    document.getElementById("clock").textContent =
      String(now.getHours()).padStart(2, "0") + ":" + String(now.getMinutes()).padStart(2, "0");
  }
  tick();
  setInterval(tick, 10000);

  Live.api("GET", config.meUrl).then(function (me) {
    if (me.status === 401) { localStorage.removeItem(config.storageKey); Live.requireToken(); return; }
    if (!me.ok) { statusEl.textContent = text.network; return; }
    window.branchserveLive = Live.connect(me.body.outlet_code, {
      onState: function (state) { render(state); },
      onEvent: onEvent,
      onStatus: function (s) { statusEl.textContent = text[s] || s; statusEl.dataset.status = s; }
    });
  }).catch(function () { statusEl.textContent = text.network; });
})();
