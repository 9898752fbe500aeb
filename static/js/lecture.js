// Lecture mode: the presentation view, hiding the controls, and keyboard shortcuts.
//
// Without JavaScript the same things are plain links: /present sets the `present` and `bare`
// cookies and redirects back, and base.html turns them into classes on <body>. Here the links
// toggle those classes and cookies in place instead, so an htmx-updated page keeps its state.
// The shortcuts are listed in templates/lecture/shortcuts.html (the help overlay and /presets).
(function () {
  "use strict";

  var YEAR = 365 * 24 * 3600;
  var EPS_STEP = 0.025; // how far + and − move ε unless the slider says (data-eps="0.05")

  function setCookie(name, on) {
    document.cookie = name + (on ? "=1; Max-Age=" + YEAR : "=; Max-Age=0") + "; Path=/; SameSite=Lax";
  }

  function togglePresent() {
    var on = document.body.classList.toggle("present");
    setCookie("present", on);
    if (!on) { // leaving the view brings the controls back, as /present?on=0 does
      document.body.classList.remove("bare");
      setCookie("bare", false);
    }
  }

  function toggleControls() {
    if (!document.body.classList.contains("present")) return; // hiding belongs to the presentation view
    setCookie("bare", document.body.classList.toggle("bare"));
  }

  function here() {
    return location.pathname + location.search;
  }

  // Links that carry "this page" (data-here names the parameter): htmx may have changed the
  // address since the page was rendered, so use the current one.
  function pointHere(link) {
    var url = new URL(link.href);
    url.searchParams.set(link.dataset.here, here());
    if (link.dataset.here === "url") url.searchParams.set("title", document.title.replace(/ · AdvLab$/, ""));
    link.href = url.toString();
  }

  function openHelp() {
    var dialog = document.getElementById("shortcuts-dialog");
    if (dialog && !dialog.open) dialog.showModal();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-lecture], [data-here]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (link.dataset.here) return pointHere(link); // then the browser follows it
    var actions = {
      present: togglePresent,
      controls: toggleControls,
      help: openHelp,
      "close-help": function () { document.getElementById("shortcuts-dialog").close(); },
    };
    var action = actions[link.dataset.lecture];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  // Move a range input by `steps` of its own step, and tell the page as a user's drag would
  // (input, then change), so that htmx sends the update.
  function nudge(range, steps) {
    var before = range.value;
    if (steps > 0) range.stepUp(steps); else range.stepDown(-steps);
    if (range.value === before) return;
    range.dispatchEvent(new Event("input", { bubbles: true }));
    range.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function changeEps(direction) {
    var range = document.querySelector("input[type=range][data-eps]");
    if (!range) return;
    var step = Number(range.step) || 0.01;
    var jump = Number(range.dataset.eps) || EPS_STEP;
    nudge(range, direction * Math.max(1, Math.round(jump / step)));
  }

  function scrub(direction) {
    var range = document.querySelector("[data-scrubber] input[type=range]");
    if (range) nudge(range, direction);
  }

  function follow(rel) {
    var link = document.querySelector("#sequence a[rel=" + rel + "]");
    if (link) location.href = link.href;
  }

  var KEYS = {
    p: togglePresent,
    h: toggleControls,
    n: function () { follow("next"); },
    b: function () { follow("prev"); },
    "+": function () { changeEps(1); },
    "=": function () { changeEps(1); }, // + without Shift on many keyboards
    "-": function () { changeEps(-1); },
    "−": function () { changeEps(-1); },
    ".": function () { scrub(1); },
    ",": function () { scrub(-1); },
    "?": openHelp,
  };

  // Typing in a text field or choosing in a list is never a shortcut; sliders, buttons and
  // radio buttons take no letters, so shortcuts still work while they have the focus.
  var NOT_TYPING = ["range", "checkbox", "radio", "button", "submit", "reset", "file", "color"];

  function isTyping(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && NOT_TYPING.indexOf(el.type) === -1;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target) || document.querySelector("dialog[open]")) return;
    var action = KEYS[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
})();
