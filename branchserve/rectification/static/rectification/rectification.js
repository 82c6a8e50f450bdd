// Let HTMX show the panel that comes back with a refused action (4xx with the message).
document.addEventListener("htmx:beforeSwap", function (event) {
  var xhr = event.detail.xhr;
  if (xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader("X-Rectification-Panel")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
