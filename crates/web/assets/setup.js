// Copies the one-time setup token from the URL fragment (which browsers never send to the
// server, so it stays out of logs) into the setup form, then drops it from the address bar
// and history. Served as a file: the CSP allows no inline script.
(function () {
  "use strict";
  var field = document.getElementById("setup-token");
  if (!field) {
    return;
  }
  var token = decodeURIComponent((window.location.hash || "").replace(/^#/, ""));
  if (token) {
    field.value = token;
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  if (!field.value) {
    var missing = document.getElementById("setup-token-missing");
    if (missing) {
      missing.classList.remove("hidden");
    }
  }
})();
