// Behaviour shared by every page. The Content-Security-Policy allows no inline script, so what
// used to be oninput="..." attributes lives here.
//
// Live values: an <output data-live for="ID"> shows the current value of the input with that id
// while it moves (e.g. the ε next to a slider). The delegated listener covers inputs that htmx
// swaps in later; the sync on load and after every swap covers values the browser restored.
(function () {
  "use strict";

  function outputsFor(id) {
    return Array.prototype.filter.call(document.querySelectorAll("output[data-live]"), function (out) {
      return Array.prototype.indexOf.call(out.htmlFor, id) !== -1;
    });
  }

  function mirror(input) {
    if (!input.id) return;
    outputsFor(input.id).forEach(function (out) { out.value = input.value; });
  }

  function syncAll() {
    document.querySelectorAll("output[data-live]").forEach(function (out) {
      var input = document.getElementById(out.htmlFor[0] || "");
      if (input) out.value = input.value;
    });
  }

  // A form marked data-autostart (a lecture preset that runs something) submits itself on load.
  function autostart() {
    document.querySelectorAll("form[data-autostart]").forEach(function (form) {
      form.removeAttribute("data-autostart");
      form.requestSubmit();
    });
  }

  document.addEventListener("input", function (event) { mirror(event.target); });
  document.addEventListener("DOMContentLoaded", autostart);
  document.addEventListener("DOMContentLoaded", syncAll);
  document.addEventListener("htmx:afterSettle", syncAll);
})();
