// Step scrubber for attack trajectories. Without JavaScript every snapshot is listed; with it,
// a range input shows one snapshot at a time. Runs on page load and after every htmx swap.
(function () {
  function show(scrubber, index) {
    scrubber.querySelectorAll(".snapshots li").forEach(function (li, i) { li.hidden = i !== index; });
  }
  function init() {
    document.querySelectorAll("[data-scrubber]:not([data-ready])").forEach(function (scrubber) {
      var range = scrubber.querySelector("input[type=range]");
      scrubber.dataset.ready = "1";
      scrubber.classList.add("live");
      range.hidden = false;
      range.addEventListener("input", function () { show(scrubber, Number(range.value)); });
      show(scrubber, Number(range.value));
    });
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
