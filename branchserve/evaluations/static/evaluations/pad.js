// The evaluation pad: shows the teller at its counter; when the teller initiates an evaluation
// (``evaluation.initiated`` on the outlet's socket, or what /evaluations/pad/current answers
// after a (re)connect) it asks the customer for a level, a reason where the level needs one and
// an optional comment, counts down to the time limit, and posts the rating with its token.
(function () {
  "use strict";
  var Live = window.BranchserveLive;
  var config = JSON.parse(document.getElementById("pad-config").textContent);
  var text = config.text;
  if (!Live.requireToken()) return;

  var el = Live.el;
  var $ = function (id) { return document.getElementById(id); };
  var me = null;
  var levels = [];
  var reasons = [];
  var current = null;     // the pending evaluation shown
  var chosen = null;      // the level waiting for its reasons
  var ticker = null;
  var thanksTimer = null;
  var sending = false;

  function show(which) {
    ["pad-idle", "pad-ask", "pad-thanks"].forEach(function (id) { $(id).hidden = id !== which; });
  }

  function showTeller(teller) {
    $("teller-name").textContent = teller ? teller.name : "—";
    $("teller-no").textContent = teller ? Live.format(text.employeeNo, { number: teller.employee_no }) : "";
    $("teller-initial").textContent = teller && teller.name ? teller.name.charAt(0) : "?";
  }

  function stopCountdown() { clearInterval(ticker); ticker = null; }

  function countdown() {
    if (!current || !current.expires_at) return;
    var left = Math.max(0, Math.ceil((Date.parse(current.expires_at) - Date.now()) / 1000));
    $("countdown").textContent = Live.format(text.seconds, { seconds: left });
    if (left <= 0) {
      stopCountdown();
      current = null;
      refresh();  // the server marks it not rated
    }
  }

  function ask(evaluation) {
    clearTimeout(thanksTimer);
    current = evaluation;
    chosen = null;
    $("pad-error").textContent = "";
    showTeller(evaluation.teller);
    $("reason-form").hidden = true;
    $("reason-form").reset();
    $("levels").replaceChildren.apply($("levels"), levels.map(function (level) {
      var button = el("button", {
        type: "button",
        "class": "pad-level" + (level.counts_as_satisfied ? " is-satisfied" : " is-unsatisfied"),
        "data-level": level.code,
        text: level.name
      });
      button.addEventListener("click", function () { choose(level); });
      return button;
    }));
    show("pad-ask");
    stopCountdown();
    countdown();
    ticker = setInterval(countdown, 500);
  }

  function choose(level) {
    if (!current || sending) return;
    document.querySelectorAll(".pad-level").forEach(function (b) {
      b.classList.toggle("is-chosen", b.dataset.level === level.code);
    });
    if (!level.needs_reason) { send(level.code, [], ""); return; }
    chosen = level;
    $("reasons").replaceChildren.apply($("reasons"), reasons.map(function (reason) {
      return el("label", { "class": "pad-chip" }, [
        el("input", { type: "checkbox", name: "reason", value: reason.code }),
        el("span", { text: reason.name })
      ]);
    }));
    $("reason-form").hidden = false;
  }

  function send(levelCode, reasonCodes, comment) {
    if (!current) return;
    sending = true;
    $("pad-error").textContent = "";
    var url = config.apiRoot + "/evaluations/" + encodeURIComponent(current.id) + "/rating";
    Live.api("POST", url, { level: levelCode, reasons: reasonCodes, comment: comment }).then(function (result) {
      sending = false;
      if (result.ok) { thank(); return; }
      if (result.status === 409 || result.status === 404) {
        $("pad-error").textContent = (result.body && result.body.message) || text.tooLate;
        current = null;
        stopCountdown();
        show("pad-idle");
        return;
      }
      $("pad-error").textContent = (result.body && result.body.message) || text.network;
    }).catch(function () {
      sending = false;
      $("pad-error").textContent = text.network;
    });
  }

  function thank() {
    current = null;
    chosen = null;
    stopCountdown();
    show("pad-thanks");
    clearTimeout(thanksTimer);
    thanksTimer = setTimeout(function () { if (!current) show("pad-idle"); }, 8000);
  }

  $("reason-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!chosen) return;
    var picked = Array.prototype.map.call(
      $("reason-form").querySelectorAll("input[name=reason]:checked"), function (i) { return i.value; });
    if (picked.length === 0) { $("pad-error").textContent = text.chooseReason; return; }
    send(chosen.code, picked, $("reason-form").elements.comment.value.trim());
  });

  // What the pad should show now (after pairing, a reconnect, or when a countdown ran out).
  function refresh() {
    return Live.api("GET", config.currentUrl).then(function (result) {
      if (result.status === 401) { localStorage.removeItem(config.storageKey); Live.requireToken(); return; }
      if (!result.ok) { $("pad-error").textContent = (result.body && result.body.message) || text.network; return; }
      var body = result.body;
      levels = body.levels;
      reasons = body.reasons;
      $("counter-name").textContent = Live.format(text.counter, { number: body.counter.number });
      if (body.evaluation && body.evaluation.state === "pending") {
        if (!current || current.id !== body.evaluation.id) ask(body.evaluation);
        return;
      }
      showTeller(body.teller);
      if (current) { current = null; stopCountdown(); }
      if ($("pad-thanks").hidden) show("pad-idle");
    }).catch(function () { $("pad-error").textContent = text.network; });
  }

  function onEvent(event) {
    if (!event.type || event.type.indexOf("evaluation.") !== 0) {
      // The teller at the counter may have changed: update the name when idle.
      if (!current && event.counter && event.counter.code === me.counter_code &&
          event.type.indexOf("counter.") === 0) refresh();
      return;
    }
    if (!event.counter || event.counter.code !== me.counter_code) return;
    if (event.type === "evaluation.initiated" && event.evaluation.state === "pending") {
      if (levels.length) ask(event.evaluation);
      else refresh();
      return;
    }
    if (current && event.evaluation && event.evaluation.id === current.id) refresh();
  }

  Live.api("GET", config.meUrl).then(function (result) {
    if (result.status === 401) { localStorage.removeItem(config.storageKey); Live.requireToken(); return; }
    if (!result.ok) { $("pad-error").textContent = text.network; return; }
    if (!result.body.counter_code || result.body.kind !== "evaluation_pad") {
      $("pad-error").textContent = text.needPad;
      return;
    }
    me = result.body;
    refresh();
    window.branchserveLive = Live.connect(me.outlet_code, {
      onState: function (state, reason) { if (reason === "snapshot") refresh(); },
      onEvent: onEvent,
      onStatus: function (s) { $("status").textContent = text[s] || s; $("status").dataset.status = s; }
    });
  }).catch(function () { $("pad-error").textContent = text.network; });
})();
