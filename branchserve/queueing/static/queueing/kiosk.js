// The ticket kiosk: choose the business, optionally a card or phone number, get the ticket on
// screen and on the thermal printer.
(function () {
  "use strict";
  var Live = window.BranchserveLive;
  var config = JSON.parse(document.getElementById("queue-config").textContent);
  var text = config.text;
  if (!Live.requireToken()) return;

  var el = Live.el;
  var typesEl = document.getElementById("business-types");
  var errorEl = document.getElementById("kiosk-error");
  var statusEl = document.getElementById("status");
  var customer = document.getElementById("customer");
  var green = document.getElementById("green-channel");
  var choose = document.getElementById("choose");
  var ticketEl = document.getElementById("ticket");
  var outlet = null;
  var outletName = "";
  var busy = false;
  var resetTimer = null;

  function renderTypes(state) {
    var counts = window.BranchserveLiveState.waitingByQueue(state);
    typesEl.replaceChildren.apply(typesEl, state.queues.map(function (q) {
      var button = el("button", { type: "button", "class": "kiosk-type", "data-queue": q.code }, [
        el("span", { "class": "kiosk-type-prefix", text: q.prefix }),
        el("span", { "class": "kiosk-type-name", text: q.name }),
        el("span", { "class": "kiosk-type-count", text: Live.format(text.waiting, { count: counts[q.code] || 0 }) })
      ]);
      button.addEventListener("click", function () { issue(q); });
      return button;
    }));
  }

  function showTicket(ticket, queueName) {
    var minutes = ticket.estimated_wait_s === null ? null : Math.max(1, Math.round(ticket.estimated_wait_s / 60));
    var issued = new Date(ticket.issued_at);
    var values = {
      outlet: outletName,
      number: ticket.number,
      business: ticket.business_type_name || queueName,
      ahead: Live.format(text.ahead, { count: ticket.waiting_ahead }),
      estimate: minutes === null ? text.noEstimate : Live.format(text.estimate, { minutes: minutes }),
      time: issued.toLocaleString("zh-CN", { hour12: false })
    };
    ticketEl.querySelectorAll("[data-field]").forEach(function (node) {
      node.textContent = values[node.dataset.field];
    });
    choose.hidden = true;
    ticketEl.hidden = false;
    if (config.autoPrint) window.print();
    clearTimeout(resetTimer);
    resetTimer = setTimeout(reset, 30000);
  }

  function reset() {
    clearTimeout(resetTimer);
    ticketEl.hidden = true;
    choose.hidden = false;
    customer.value = "";
    green.checked = false;
    errorEl.textContent = "";
  }

  function issue(queue) {
    if (busy || !outlet) return;
    busy = true;
    errorEl.textContent = text.issuing;
    var body = { business_type: queue.code, green_channel: green.checked };
    var number = customer.value.replace(/\D/g, "");
    if (number) body.customer = number;
    // One key per press: a retry after a lost answer returns the same ticket.
    Live.api("POST", config.apiRoot + "/outlets/" + encodeURIComponent(outlet) + "/tickets", body,
      { "Idempotency-Key": Live.newKey() })
      .then(function (result) {
        if (!result.ok) {
          errorEl.textContent = (result.body && result.body.message) || text.network;
          return;
        }
        errorEl.textContent = "";
        showTicket(result.body, queue.name);
      })
      .catch(function () { errorEl.textContent = text.network; })
      .then(function () { busy = false; });
  }

  document.querySelectorAll(".kiosk-keypad button").forEach(function (button) {
    button.addEventListener("click", function () {
      var key = button.dataset.key;
      if (key === "clear") customer.value = "";
      else if (key === "back") customer.value = customer.value.slice(0, -1);
      else customer.value += key;
    });
  });
  document.getElementById("print").addEventListener("click", function () { window.print(); });
  document.getElementById("done").addEventListener("click", reset);

  Live.api("GET", config.meUrl).then(function (me) {
    if (me.status === 401) { localStorage.removeItem(config.storageKey); Live.requireToken(); return; }
    if (!me.ok) { errorEl.textContent = text.network; return; }
    outlet = me.body.outlet_code;
    outletName = me.body.outlet_name;
    document.getElementById("outlet-name").textContent = outletName;
    window.branchserveLive = Live.connect(outlet, {
      onState: renderTypes,
      onStatus: function (s) { statusEl.textContent = text[s] || s; statusEl.dataset.status = s; }
    });
  }).catch(function () { errorEl.textContent = text.network; });
})();
