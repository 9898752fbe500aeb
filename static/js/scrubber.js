// Step scrubber for attack trajectories. Without JavaScript every snapshot is listed with its
// step's bars; with it, a range input (and Play/Pause) shows one snapshot at a time, and a marker
// on the chart shows where that step is. Runs on page load and after every htmx swap.
(function () {
  "use strict";

  function show(scrubber, index) {
    var items = scrubber.querySelectorAll(".snapshots li[data-step]");
    items.forEach(function (li, i) { li.hidden = i !== index; });
    var chart = scrubber.closest(".trajectory").querySelector("svg.chart");
    var marker = chart && chart.querySelector(".step-marker");
    if (!marker || !items[index]) return;
    var x = Number(items[index].dataset.step) / Number(chart.dataset.last) * Number(chart.dataset.width);
    marker.setAttribute("x", x - 1);
    marker.setAttribute("visibility", "visible");
  }

  function play(scrubber, range, button) {
    var timer = null;
    function stop() {
      clearInterval(timer); timer = null;
      button.textContent = "▶ Play"; button.setAttribute("aria-pressed", "false");
    }
    button.addEventListener("click", function () {
      if (timer) return stop();
      if (Number(range.value) >= Number(range.max)) range.value = 0;
      button.textContent = "❚❚ Pause"; button.setAttribute("aria-pressed", "true");
      show(scrubber, Number(range.value));
      timer = setInterval(function () {
        if (!scrubber.isConnected || Number(range.value) >= Number(range.max)) return stop();
        range.value = Number(range.value) + 1;
        show(scrubber, Number(range.value));
      }, 250);
    });
    range.addEventListener("input", function () { if (timer) stop(); });
  }

  function init() {
    document.querySelectorAll("[data-scrubber]:not([data-ready])").forEach(function (scrubber) {
      var range = scrubber.querySelector("input[type=range]");
      scrubber.dataset.ready = "1";
      scrubber.classList.add("live");
      scrubber.querySelector(".scrub-controls").hidden = false;
      range.addEventListener("input", function () { show(scrubber, Number(range.value)); });
      play(scrubber, range, scrubber.querySelector("[data-play]"));
      show(scrubber, Number(range.value));
    });
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
