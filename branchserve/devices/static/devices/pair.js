// The pairing page: exchange the one-time code for the device token, keep it in localStorage.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("pair-config").textContent);
  var text = config.text;
  var form = document.getElementById("pair-form");
  var input = document.getElementById("pair-code");
  var error = document.getElementById("pair-error");
  var done = document.getElementById("pair-done");
  var status = document.getElementById("pair-status");

  function digits(value) { return value.replace(/\D/g, "").slice(0, 12); }
  function grouped(value) { return digits(value).replace(/(\d{4})(?=\d)/g, "$1 "); }
  function getToken() { try { return localStorage.getItem(config.storageKey); } catch (e) { return null; } }

  function show(binding, message) {
    var counter = binding.counter_number === null ? "—"
      : text.counter.replace("%(number)s", binding.counter_number);
    var values = {
      kind_label: binding.kind_label,
      name: binding.name,
      outlet: binding.outlet_name + "（" + binding.outlet_code + "）",
      counter: counter
    };
    done.querySelectorAll("[data-field]").forEach(function (el) {
      el.textContent = values[el.dataset.field];
    });
    status.textContent = message;
    form.hidden = true;
    done.hidden = false;
  }

  function showForm(message) {
    error.textContent = message || "";
    done.hidden = true;
    form.hidden = false;
    input.value = "";
    input.focus();
  }

  input.addEventListener("input", function () { input.value = grouped(input.value); });
  form.querySelectorAll(".keypad button").forEach(function (button) {
    button.addEventListener("click", function () {
      var key = button.dataset.key;
      var value = digits(input.value);
      if (key === "clear") value = "";
      else if (key === "back") value = value.slice(0, -1);
      else value += key;
      input.value = grouped(value);
    });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = digits(input.value);
    if (code.length !== 12) { error.textContent = text.enterCode; return; }
    error.textContent = text.pairing;
    fetch(config.pairUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ code: code })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (!result.ok) { error.textContent = result.body.message || text.network; return; }
      localStorage.setItem(config.storageKey, result.body.token);
      error.textContent = "";
      show(result.body, text.paired);
    }).catch(function () { error.textContent = text.network; });
  });

  document.getElementById("pair-again").addEventListener("click", function () { showForm(""); });

  // Already paired? Show what this device is, or ask for a new code if the token is gone.
  var token = getToken();
  if (token) {
    fetch(config.meUrl, { headers: { "Authorization": "Device " + token, "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 401) {
          localStorage.removeItem(config.storageKey);
          showForm(text.tokenGone);
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (body) { if (body) show(body, text.paired); })
      .catch(function () { error.textContent = text.network; });
  }
})();
