// The live queue of one outlet in the browser: a snapshot, and the events applied to it.
// The same file runs in the pages and in the server's tests (under Node or Chromium), which
// check that a snapshot with the events applied equals a fresh snapshot.
//
// Applying is state-based: a ticket event carries the whole ticket as the action left it, so
// the ticket is put where its state says (waiting list, a counter, or gone). Applying an event
// the snapshot already contains changes nothing.
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.BranchserveLiveState = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";
  var RECENT_CALLS = 10;
  var AT_COUNTER = { called: true, serving: true };

  function clone(value) { return JSON.parse(JSON.stringify(value)); }
  function compare(a, b) { return a < b ? -1 : a > b ? 1 : 0; }
  function waitOrder(a, b) {
    return compare(a.since, b.since) || compare(a.issued_at, b.issued_at) || compare(a.number, b.number);
  }
  function callOrder(a, b) { return compare(b.at, a.at); }

  function fromSnapshot(message) {
    var state = clone(message.snapshot);
    state.seq = message.seq;
    return state;
  }

  function findCounter(state, code) {
    for (var i = 0; i < state.counters.length; i++) {
      if (state.counters[i].code === code) return state.counters[i];
    }
    return null;
  }

  function placeTicket(state, ticket, counterCode) {
    state.waiting = state.waiting.filter(function (t) { return t.id !== ticket.id; });
    state.counters.forEach(function (c) {
      if (c.ticket && c.ticket.id === ticket.id) c.ticket = null;
    });
    if (ticket.state === "waiting") {
      state.waiting.push(ticket);
      state.waiting.sort(waitOrder);
    } else if (AT_COUNTER[ticket.state] && counterCode) {
      findCounter(state, counterCode).ticket = ticket;
    }
  }

  function addCall(state, call) {
    var known = state.recent_calls.some(function (c) {
      return c.ticket_id === call.ticket_id && c.at === call.at && c.recall === call.recall;
    });
    if (known) return false;
    state.recent_calls.push(call);
    state.recent_calls.sort(callOrder);
    state.recent_calls = state.recent_calls.slice(0, RECENT_CALLS);
    return true;
  }

  var ALERT_ORDER = { offline: 0, faulty: 1, never_seen: 2 };
  function alertOrder(a, b) {
    return (ALERT_ORDER[a.status] - ALERT_ORDER[b.status]) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  // Apply one event to ``state`` (changed in place). Returns what happened:
  // "applied", "stale" (already in the state: ignored), or "resync" (a gap in the sequence,
  // another business day, or something unknown: fetch a fresh snapshot).
  function apply(state, event) {
    if (typeof event.seq !== "number") return "resync";
    if (event.seq <= state.seq) return "stale";
    if (event.seq !== state.seq + 1) return "resync";
    var type = event.type || "";
    if (type.indexOf("evaluation.") === 0) {
      // Evaluations (initiated, rated, expired) change nothing in the queue: pass them on.
      state.seq = event.seq;
      return "applied";
    }
    if (type === "device.status") {
      // Device health: the outlet's devices that are offline, faulty or never connected.
      if (!event.device) return "resync";
      state.devices = (state.devices || []).filter(function (d) {
        return d.device_id !== event.device.device_id;
      });
      if (event.alert) state.devices.push(event.alert);
      state.devices.sort(alertOrder);
      state.seq = event.seq;
      return "applied";
    }
    var counter = event.counter ? findCounter(state, event.counter.code) : null;
    if (event.counter && !counter) return "resync";
    if (type.indexOf("ticket.") === 0) {
      if (!event.ticket || event.ticket.day !== state.day) return "resync";
      placeTicket(state, event.ticket, event.counter ? event.counter.code : null);
      if (event.call) addCall(state, event.call);
    } else if (type.indexOf("counter.") === 0) {
      if (!counter) return "resync";
      counter.status = event.status;
      counter.pause_reason = event.pause_reason;
      counter.teller = event.teller;
      if (event.status === "closed") counter.ticket = null;
    } else if (type === "queue.day_closed") {
      if (event.day >= state.day) {
        state.waiting = [];
        state.counters.forEach(function (c) {
          c.status = "closed"; c.pause_reason = ""; c.teller = null; c.ticket = null;
        });
      }
    } else {
      return "resync";
    }
    state.seq = event.seq;
    return "applied";
  }

  // The state in the snapshot's shape (what a fresh snapshot would say), without ``seq``.
  function normalise(state) {
    var copy = clone(state);
    delete copy.seq;
    return copy;
  }

  function waitingByQueue(state) {
    var counts = {};
    state.queues.forEach(function (q) { counts[q.code] = 0; });
    state.waiting.forEach(function (t) { counts[t.queue] = (counts[t.queue] || 0) + 1; });
    return counts;
  }

  return {
    RECENT_CALLS: RECENT_CALLS,
    fromSnapshot: fromSnapshot,
    apply: apply,
    normalise: normalise,
    findCounter: findCounter,
    waitingByQueue: waitingByQueue
  };
});
