// The lobby manager's tablet: every waiting ticket with its wait, tier and green channel;
// divert, transfer or cancel it; the appointments that have arrived; the counters.
// Uses the lobby tablet's token if this device has one, else the manager's session.
(function () {
  "use strict";
  var Live = window.BranchserveLive;
  var LiveState = window.BranchserveLiveState;
  var config = JSON.parse(document.getElementById("queue-config").textContent);
  var text = config.text;
  var el = Live.el;
  var messageEl = document.getElementById("lobby-message");
  var statusEl = document.getElementById("status");
  var openForm = null;  // {ticketId, kind}
  var live = null;

  function say(message, isError) {
    messageEl.textContent = message;
    messageEl.classList.toggle("is-error", !!isError);
  }

  function tags(ticket) {
    var list = [];
    if (ticket.tier !== "ordinary") list.push(el("span", { "class": "tag tag-tier", text: text.tier[ticket.tier] || ticket.tier }));
    if (ticket.green_channel) list.push(el("span", { "class": "tag tag-green", text: text.green }));
    if (ticket.appointment) list.push(el("span", { "class": "tag tag-appointment", text: text.appointment }));
    if (ticket.front) list.push(el("span", { "class": "tag", text: text.front }));
    if (ticket.for_counter) list.push(el("span", { "class": "tag", text: Live.format(text.forCounter, { counter: ticket.for_counter }) }));
    return list;
  }

  function queueName(state, code) {
    for (var i = 0; i < state.queues.length; i++) if (state.queues[i].code === code) return state.queues[i].name;
    return code;
  }

  function form(kind, ticket, state) {
    var node = document.getElementById(kind + "-form").content.firstElementChild.cloneNode(true);
    if (kind === "transfer") {
      state.queues.forEach(function (q) { node.elements.business_type.appendChild(el("option", { value: q.code, text: q.prefix + " " + q.name })); });
      state.counters.forEach(function (c) { node.elements.counter_code.appendChild(el("option", { value: c.code, text: Live.format(text.counter, { number: c.number }) })); });
    }
    node.querySelector("[data-close]").addEventListener("click", function () { openForm = null; render(live.state()); });
    node.addEventListener("submit", function (event) {
      event.preventDefault();
      var body;
      if (kind === "divert") {
        body = { to: node.elements.to.value, outcome: node.elements.outcome.value, note: node.elements.note.value };
        if (node.elements.outlet_code.value) body.outlet_code = node.elements.outlet_code.value;
      } else {
        body = {
          business_type: node.elements.business_type.value || null,
          counter_code: node.elements.counter_code.value || null,
          placement: node.elements.placement.value
        };
      }
      act(kind, ticket, body);
    });
    return node;
  }

  function act(kind, ticket, body) {
    Live.api("POST", config.apiRoot + "/tickets/" + ticket.id + "/" + kind, body || {}).then(function (result) {
      if (!result.ok) { say((result.body && result.body.message) || text.network, true); return; }
      openForm = null;
      say(Live.format(text.done, { number: ticket.number }), false);
    }).catch(function () { say(text.network, true); });
  }

  function render(state) {
    if (!state) return;
    var counts = LiveState.waitingByQueue(state);
    document.getElementById("queue-counts").textContent = state.queues.map(function (q) {
      return q.prefix + " " + q.name + " " + counts[q.code];
    }).join(" · ");
    var ticketsEl = document.getElementById("tickets");
    ticketsEl.replaceChildren.apply(ticketsEl, state.waiting.map(function (ticket) {
      var actions = el("div", { "class": "lobby-ticket-actions" }, [
        el("button", { type: "button", "class": "button", "data-do": "divert", text: document.querySelector("#divert-form").content.querySelector("[type=submit]").textContent }),
        el("button", { type: "button", "class": "button", "data-do": "transfer", text: document.querySelector("#transfer-form").content.querySelector("[type=submit]").textContent }),
        el("button", { type: "button", "class": "button", "data-do": "cancel", text: document.querySelector("#divert-form").content.querySelector("[data-close]").textContent })
      ]);
      actions.addEventListener("click", function (event) {
        var what = event.target.dataset.do;
        if (!what) return;
        if (what === "cancel") {
          if (window.confirm(Live.format(text.confirmCancel, { number: ticket.number }))) act("cancel", ticket, {});
          return;
        }
        openForm = { ticketId: ticket.id, kind: what };
        render(live.state());
      });
      var item = el("li", { "class": "lobby-ticket", "data-ticket": ticket.number }, [
        el("span", { "class": "lobby-ticket-number", text: ticket.number }),
        el("span", {}, [
          el("span", { text: queueName(state, ticket.queue) + " · " + Live.format(text.waitedMin, { minutes: Live.minutesSince(ticket.since) }) + " " }),
          el("span", {}, tags(ticket))
        ]),
        actions
      ]);
      if (openForm && openForm.ticketId === ticket.id) item.appendChild(form(openForm.kind, ticket, state));
      return item;
    }));
    document.getElementById("nobody").hidden = state.waiting.length > 0;
    var appointments = state.waiting.filter(function (t) { return t.appointment; });
    var appointmentsEl = document.getElementById("appointments");
    appointmentsEl.replaceChildren.apply(appointmentsEl, appointments.map(function (t) {
      return el("li", {}, [el("strong", { text: t.number }), el("span", { text: Live.format(text.waitedMin, { minutes: Live.minutesSince(t.since) }) })]);
    }));
    document.getElementById("no-appointments").hidden = appointments.length > 0;
    var countersEl = document.getElementById("counters");
    countersEl.replaceChildren.apply(countersEl, state.counters.map(function (c) {
      return el("li", { "data-counter": c.code }, [
        el("span", { text: Live.format(text.counter, { number: c.number }) + (c.teller ? " · " + c.teller : "") }),
        el("span", { text: (c.ticket ? c.ticket.number + " · " : "") + (text.status[c.status] || c.status) })
      ]);
    }));
  }

  // Device health (device.status events and the snapshot's ``devices``): the devices of this
  // outlet that are offline, faulty or have never connected, worst first.
  var deviceText = JSON.parse(document.getElementById("device-alert-text").textContent);
  function renderDevices(state) {
    var listEl = document.getElementById("device-alerts");
    var alerts = state.devices || [];
    listEl.replaceChildren.apply(listEl, alerts.map(function (alert) {
      var since = alert.since ? new Date(alert.since).toLocaleString("zh-CN", { hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }) : "";
      return el("li", { "data-device": String(alert.device_id), "data-status": alert.status, "class": "device-alert device-alert-" + alert.status }, [
        el("span", { text: alert.kind_label + " · " + alert.name + (alert.counter_code ? " · " + Live.format(deviceText.counter, { code: alert.counter_code }) : "") }),
        el("span", {}, [
          el("strong", { text: alert.status_label }),
          el("span", { text: (since ? " " + Live.format(deviceText.since, { time: since }) : "") + (alert.detail ? " · " + alert.detail : "") })
        ])
      ]);
    }));
    document.getElementById("no-device-alerts").hidden = alerts.length > 0;
  }

  live = Live.connect(config.outlet, {
    onState: function (state) { render(state); renderDevices(state); },
    onStatus: function (s) { statusEl.textContent = text[s] || s; statusEl.dataset.status = s; }
  });
  window.branchserveLive = live;
  // Waits grow while nothing happens: redraw every half minute (not while a form is open).
  setInterval(function () { if (!openForm) render(live.state()); }, 30000);
})();
