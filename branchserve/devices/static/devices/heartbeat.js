// The heartbeat of a device page: every N seconds (the server says how many) a paired device
// tells the server it is alive and whether it works. A page that cannot reach the server keeps
// trying, sooner at first; a token that no longer works (revoked, re-paired) stops it.
//
// Faults: the page, or the shell a kiosk runs the page in (which knows its printer), reports
// them either by calling
//     BranchserveHeartbeat.setFault("printer_out_of_paper", "roll 2 empty");
//     BranchserveHeartbeat.clearFault();
// or by defining a function the heartbeat asks before each beat:
//     window.branchserveDeviceHealth = function () {
//       return { status: "faulty", fault_code: "printer_jam", fault_text: "", app_version: "2.3" };
//     };
// Fault codes: printer_out_of_paper, printer_jam, screen_fault, network_unstable,
// card_reader_fault, other.
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-heartbeat]");
  if (!script || window.BranchserveHeartbeat) return;
  var url = script.dataset.url;
  var storageKey = script.dataset.storageKey || "branchserve.device.token";
  var interval = Math.max(5, Number(script.dataset.interval) || 30) * 1000;
  var fault = null;  // {fault_code, fault_text}
  var failures = 0;
  var timer = null;
  var stopped = false;
  var inFlight = false;
  var again = false;  // something changed while a beat was on its way: beat once more
  var last = null;  // {ok, status, at}

  function token() {
    try { return localStorage.getItem(storageKey); } catch (e) { return null; }
  }

  function report() {
    var body = { status: "ok" };
    var hook = window.branchserveDeviceHealth;
    if (typeof hook === "function") {
      try {
        var said = hook() || {};
        ["status", "fault_code", "fault_text", "app_version"].forEach(function (key) {
          if (said[key] !== undefined && said[key] !== null) body[key] = String(said[key]);
        });
      } catch (e) { /* a broken hook must not stop the heartbeat */ }
    }
    if (fault && body.status !== "faulty") {
      body.status = "faulty";
      body.fault_code = fault.fault_code;
      if (fault.fault_text) body.fault_text = fault.fault_text;
    }
    if (body.status !== "faulty") { delete body.fault_code; delete body.fault_text; }
    return body;
  }

  function schedule(delay) {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(beat, delay);
  }

  function retryDelay() {
    // 2 s, 4 s, 8 s … up to the interval, with jitter so a lobby's devices do not all retry at once.
    return Math.min(interval, 1000 * Math.pow(2, failures)) * (0.75 + Math.random() * 0.5);
  }

  function beat() {
    var deviceToken = token();
    if (!deviceToken) { schedule(interval); return; }  // not paired (yet)
    if (inFlight) { again = true; return; }
    inFlight = true;
    again = false;
    fetch(url, {
      method: "POST",
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Authorization": "Device " + deviceToken
      },
      credentials: "omit",
      body: JSON.stringify(report())
    }).then(function (response) {
      inFlight = false;
      last = { ok: response.ok, status: response.status, at: Date.now() };
      if (response.status === 401) { stopped = true; return null; }  // token gone: pair again
      if (response.status >= 500) { failures += 1; schedule(retryDelay()); return null; }
      failures = 0;
      return response.json().catch(function () { return null; }).then(function (data) {
        if (data && data.interval_s) interval = Math.max(5, data.interval_s) * 1000;
        schedule(again ? 0 : interval);
      });
    }).catch(function () {
      inFlight = false;
      last = { ok: false, status: 0, at: Date.now() };
      failures += 1;
      schedule(retryDelay());
    });
  }

  window.BranchserveHeartbeat = {
    setFault: function (code, text) {
      fault = { fault_code: String(code || "other"), fault_text: text ? String(text) : "" };
      beat();
    },
    clearFault: function () { fault = null; beat(); },
    beat: beat,
    last: function () { return last; }
  };
  window.addEventListener("online", function () { failures = 0; beat(); });
  beat();
})();
