// The counter terminal: the teller calls, recalls, starts, finishes, marks no-shows,
// transfers, pauses and resumes; the waiting counts and the reason of each call are shown.
(function () {
  "use strict";
  var Live = window.BranchserveLive;
  var config = JSON.parse(document.getElementById("queue-config").textContent);
  var text = config.text;
  if (!Live.requireToken()) return;

  var el = Live.el;
  var errorEl = document.getElementById("terminal-error");
  var statusEl = document.getElementById("status");
  var transferForm = document.getElementById("transfer-form");
  var me = null;
  var live = null;
  var reasons = {};  // ticket id → the reason of its call, from the call-next answer
  var busy = false;
  var lastFinished = null;  // the ticket this teller finished last: the one to invite a rating for
  var evaluationEl = document.getElementById("evaluation-result");

  function state() { return live ? live.state() : null; }
  function mine(s) { return s ? window.BranchserveLiveState.findCounter(s, me.counter_code) : null; }

  function render(s) {
    var counter = mine(s);
    if (!counter) return;
    document.getElementById("counter-status").textContent = text.status[counter.status] || counter.status;
    document.getElementById("counter-status").dataset.status = counter.status;
    var ticket = counter.ticket;
    document.getElementById("current-number").textContent = ticket ? ticket.number : "—";
    document.getElementById("current-state").textContent = ticket ? (text.state[ticket.state] || ticket.state) : text.noTicket;
    var reason = "";
    if (ticket) {
      reason = reasons[ticket.id] || "";
      if (!reason) {
        s.recent_calls.some(function (call) {
          if (call.ticket_id === ticket.id && call.reason) { reason = call.reason; return true; }
          return false;
        });
      }
    }
    document.getElementById("current-reason").textContent = reason;
    var counts = window.BranchserveLiveState.waitingByQueue(s);
    var queuesEl = document.getElementById("queues");
    queuesEl.replaceChildren.apply(queuesEl, s.queues.map(function (q) {
      return el("li", { "data-queue": q.code }, [
        el("span", { text: q.prefix + " " + q.name }),
        el("strong", { text: String(counts[q.code] || 0) })
      ]);
    }));
    var enabled = {
      "open": counter.status === "closed",
      "call-next": counter.status === "open" && !ticket,
      "recall": !!ticket && ticket.state === "called",
      "start": !!ticket && ticket.state === "called",
      "no-show": !!ticket && ticket.state === "called",
      "finish": !!ticket && ticket.state === "serving",
      "transfer": !!ticket,
      "pause": counter.status === "open",
      "resume": counter.status === "paused",
      "close": counter.status !== "closed" && !ticket,
      "evaluate": !!lastFinished
    };
    document.querySelectorAll("[data-action]").forEach(function (button) {
      button.disabled = busy || !enabled[button.dataset.action];
    });
    fillTransfer(s);
  }

  function fillTransfer(s) {
    var queueSelect = transferForm.elements.business_type;
    var counterSelect = transferForm.elements.counter_code;
    if (queueSelect.options.length > 1) return;
    s.queues.forEach(function (q) { queueSelect.appendChild(el("option", { value: q.code, text: q.prefix + " " + q.name })); });
    s.counters.forEach(function (c) {
      if (c.code !== me.counter_code) counterSelect.appendChild(el("option", { value: c.code, text: Live.format(text.counter, { number: c.number }) }));
    });
  }

  function post(url, body) {
    busy = true;
    errorEl.textContent = "";
    if (state()) render(state());
    return Live.api("POST", config.apiRoot + url, body).then(function (result) {
      if (!result.ok) errorEl.textContent = (result.body && result.body.message) || text.network;
      return result;
    }).catch(function () {
      errorEl.textContent = text.network;
      return { ok: false };
    }).then(function (result) {
      busy = false;
      if (state()) render(state());
      return result;
    });
  }

  function currentTicket() {
    var counter = mine(state());
    return counter ? counter.ticket : null;
  }

  var actions = {
    "open": function () { return post("/counters/" + me.counter_code + "/open"); },
    "pause": function () {
      return post("/counters/" + me.counter_code + "/pause", { reason: document.getElementById("pause-reason").value });
    },
    "resume": function () { return post("/counters/" + me.counter_code + "/resume"); },
    "close": function () { return post("/counters/" + me.counter_code + "/close"); },
    "call-next": function () {
      return post("/counters/" + me.counter_code + "/call-next").then(function (result) {
        if (result.ok) {
          lastFinished = null;
          evaluationEl.textContent = "";
          reasons[result.body.ticket.ticket_id] = result.body.reason;
          document.getElementById("current-reason").textContent = result.body.reason;
        }
      });
    },
    "recall": function (t) { return post("/tickets/" + t.id + "/recall"); },
    "start": function (t) { return post("/tickets/" + t.id + "/start"); },
    "finish": function (t) {
      return post("/tickets/" + t.id + "/finish").then(function (result) {
        if (result.ok) {
          lastFinished = t;
          evaluationEl.textContent = "";
          if (state()) render(state());
        }
        return result;
      });
    },
    "evaluate": function () {
      if (!lastFinished) return null;
      evaluationEl.textContent = "";
      return post("/tickets/" + lastFinished.id + "/evaluation").then(function (result) {
        evaluationEl.dataset.ok = result.ok ? "true" : "false";
        evaluationEl.textContent = result.ok
          ? evaluationEl.dataset.done
          : ((result.body && result.body.message) || text.network);
        return result;
      });
    },
    "no-show": function (t) {
      if (!window.confirm(Live.format(text.confirmNoShow, { number: t.number }))) return null;
      return post("/tickets/" + t.id + "/no-show");
    },
    "transfer": function () { transferForm.hidden = false; return null; }
  };

  document.querySelectorAll("[data-action]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!me) return;
      actions[button.dataset.action](currentTicket());
    });
  });
  transferForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var ticket = currentTicket();
    if (!ticket) return;
    var body = {
      business_type: transferForm.elements.business_type.value || null,
      counter_code: transferForm.elements.counter_code.value || null,
      placement: transferForm.elements.placement.value
    };
    post("/tickets/" + ticket.id + "/transfer", body).then(function (result) {
      if (result.ok) transferForm.hidden = true;
    });
  });
  transferForm.querySelector("[data-cancel]").addEventListener("click", function () { transferForm.hidden = true; });

  Live.api("GET", config.meUrl).then(function (result) {
    if (result.status === 401) { localStorage.removeItem(config.storageKey); Live.requireToken(); return; }
    if (!result.ok) { errorEl.textContent = text.network; return; }
    if (!result.body.counter_code || result.body.kind !== "counter_terminal") {
      errorEl.textContent = text.needTerminal;
      return;
    }
    me = result.body;
    document.getElementById("counter-name").textContent =
      result.body.outlet_name + " · " + Live.format(text.counter, { number: result.body.counter_number });
    live = Live.connect(me.outlet_code, {
      onState: render,
      onStatus: function (s) { statusEl.textContent = text[s] || s; statusEl.dataset.status = s; }
    });
    window.branchserveLive = live;
  }).catch(function () { errorEl.textContent = text.network; });
})();
