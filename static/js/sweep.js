// The live ε slider of the attack lab. FGSM's direction does not depend on ε, so one request
// (POST /api/v1/attacks/fgsm/sweep) brings the original, the sign of the step and the model's
// predictions at every slider position; while the slider moves, this script draws
// x_adv(ε) = clip(x + ε·sign, 0, 1) in a canvas and swaps in that position's bars and numbers,
// with no request per move. Half a second after the slider is let go, one request brings the
// server's result for that ε (the same pixels, plus its download and "attack again" links).
// Without JavaScript the form runs FGSM at the chosen ε instead.
//
// The pixels are computed as the server computes them, in float32 (Math.fround), and saved to
// 8 bits toward the original (app/attacks/saving.py), so the canvas equals the PNG that
// POST /api/v1/attacks/fgsm returns.
(function () {
  "use strict";

  var f32 = Math.fround;
  var TOLERANCE = Math.pow(2, -12);  // saving.py's TOLERANCE

  function roundHalfEven(v) {
    var r = Math.round(v);
    return (r - v === 0.5 && r % 2 !== 0) ? r - 1 : r;
  }

  function pixels(url) {
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () {
        var c = document.createElement("canvas");
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        var ctx = c.getContext("2d");
        ctx.drawImage(img, 0, 0);
        resolve(ctx.getImageData(0, 0, c.width, c.height));
      };
      img.onerror = function () { reject(new Error("could not load " + url)); };
      img.src = url;
    });
  }

  // One canvas in place of an <img>, same classes and size.
  function canvasFor(img, width, height) {
    var canvas = document.createElement("canvas");
    canvas.width = width; canvas.height = height;
    canvas.className = img.className;
    canvas.id = img.id;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", img.alt);
    img.replaceWith(canvas);
    return canvas;
  }

  function Live(section, slider, sweep, original, sign) {
    this.section = section; this.slider = slider; this.sweep = sweep;
    this.original = original; this.sign = sign;
    this.advData = new ImageData(original.width, original.height);
    this.deltaData = new ImageData(original.width, original.height);
  }

  // The server's images stay until the slider first moves; then canvases take their place.
  Live.prototype.canvases = function () {
    if (!this.adv) {
      var w = this.original.width, h = this.original.height;
      this.adv = canvasFor(document.getElementById("adversarial-img"), w, h);
      this.delta = canvasFor(document.getElementById("perturbation-img"), w, h);
    }
  };

  // The grid position nearest to the slider's value.
  Live.prototype.index = function () {
    var value = Number(this.slider.value), steps = this.sweep.steps, best = 0;
    for (var i = 1; i < steps.length; i++) {
      if (Math.abs(steps[i].eps - value) < Math.abs(steps[best].eps - value)) best = i;
    }
    return best;
  };

  Live.prototype.draw = function () {
    var step = this.sweep.steps[this.index()];
    var e = f32(step.eps), o = this.original.data, s = this.sign.data;
    var a = this.advData.data, d = this.deltaData.data, biggest = 0, i;
    for (i = 0; i < o.length; i += 4) {
      for (var c = 0; c < 3; c++) {
        var sign = s[i + c] === 0 ? -1 : (s[i + c] === 255 ? 1 : 0);
        var x = f32(f32(o[i + c] / 255) + sign * e);
        x = Math.min(1, Math.max(0, x));
        // saved toward the original (app/attacks/saving.py): whole 1/255 steps of the change
        var change = f32(f32(x * 255) - o[i + c]);
        a[i + c] = o[i + c] + Math.sign(change) * Math.floor(f32(Math.abs(change) + TOLERANCE));
        biggest = Math.max(biggest, Math.abs(a[i + c] - o[i + c]));
      }
      a[i + 3] = 255;
    }
    // the perturbation, amplified so that its largest change reaches black or white (grey: none)
    var scale = biggest > 0 ? 127.5 / biggest : 0;
    for (i = 0; i < o.length; i += 4) {
      for (var k = 0; k < 3; k++) d[i + k] = roundHalfEven(Math.min(255, Math.max(0, 127.5 + scale * (a[i + k] - o[i + k]))));
      d[i + 3] = 255;
    }
    this.canvases();
    this.adv.getContext("2d").putImageData(this.advData, 0, 0);
    this.delta.getContext("2d").putImageData(this.deltaData, 0, 0);
    this.numbers(step, biggest > 0 ? 255 / biggest : 0);
  };

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value;
  }

  function percent(p) { return (p * 100).toFixed(1) + "%"; }

  function bars(predictions, labelId) {
    var ol = document.createElement("ol");
    ol.className = "bars";
    predictions.slice(0, 5).forEach(function (p, i) {
      var li = document.createElement("li"), label = document.createElement("span");
      var meter = document.createElement("meter"), prob = document.createElement("span");
      label.className = "label"; label.textContent = p.label;
      if (i === 0 && labelId) label.id = labelId;
      meter.min = 0; meter.max = 1; meter.value = p.prob; meter.textContent = percent(p.prob);
      meter.setAttribute("aria-label", p.label + ": " + percent(p.prob));
      prob.className = "prob"; prob.textContent = percent(p.prob);
      li.append(label, meter, prob);
      ol.appendChild(li);
    });
    return ol;
  }

  Live.prototype.numbers = function (step, amplified) {
    var fooled = step.success, n = step.norms, saved = step.survives_saving;
    document.getElementById("verdict-mark").innerHTML = fooled
      ? '<span class="ok">✓ Fooled:</span>' : '<span class="bad">✗ Not fooled:</span>';
    text("adv-label", step.predictions[0].label);
    if (this.adv) this.adv.setAttribute("aria-label", "Adversarial: " + step.predictions[0].label);
    text("verdict-eps", String(step.eps));
    document.getElementById("after-bars").replaceChildren(bars(step.predictions, "after-label"));
    text("norm-l0", n.l0 + " values");
    text("norm-l2", n.l2.toFixed(3));
    text("norm-linf", n.linf.toFixed(3));
    text("norm-psnr", n.psnr === null ? "∞" : n.psnr.toFixed(1) + " dB");
    text("perturbation-caption", (n.l0 ? "Perturbation, amplified ×" + amplified.toFixed(1) : "No perturbation") +
         " (gray = no change)");
    var line = document.getElementById("saved-line");
    if (line) {
      line.innerHTML = "";
      line.append("Saved as an 8-bit PNG (" + saved.changed_values + " values rounded), it is read as " +
                  saved.predictions[0].label + ": ");
      var verdict = document.createElement("span");
      verdict.className = saved.success ? "ok" : "bad";
      verdict.textContent = saved.success ? "fooled" : "not fooled";
      line.append(verdict, saved.success !== fooled ? " (rounding changed the outcome)" : "");
    }
    this.section.dataset.eps = String(step.eps);
  };

  // The address bar and the permalink keep the ε shown (no request: the page at that URL
  // computes the same picture).
  Live.prototype.remember = function () {
    var eps = String(this.sweep.steps[this.index()].eps);
    var permalink = document.querySelector("a.permalink");
    if (permalink) {
      var url = new URL(permalink.href, location.href);
      url.searchParams.set("eps", eps);
      permalink.href = url.pathname + url.search;
    }
    var here = new URL(location.href);
    if (here.pathname === "/attack") {
      here.searchParams.set("eps", eps);
      here.searchParams.set("run", "1");
      history.replaceState(history.state, "", here.pathname + here.search);
    }
    clearTimeout(this.settle);
    this.settle = setTimeout(serverResult.bind(null, this.slider), SETTLE_MS);
  };

  var SETTLE_MS = 500;

  // The server's own result at the slider's ε: the images behind the links below the result.
  function serverResult(slider) {
    if (!slider.isConnected || !window.htmx) return;
    htmx.ajax("GET", "/attack?" + new URLSearchParams(new FormData(slider.form)) + "&run=1",
              {target: "#result", swap: "innerHTML"});
  }

  function start(section) {
    var slider = document.getElementById("p-eps");
    if (!slider) return;
    section.dataset.ready = "loading";
    var body = {model: section.dataset.model, image: section.dataset.image,
                target: section.dataset.target === "" ? null : section.dataset.target};
    fetch("/api/v1/attacks/fgsm/sweep", {method: "POST", headers: {"Content-Type": "application/json"},
                                         body: JSON.stringify(body)})
      .then(function (r) { if (!r.ok) throw new Error("sweep: HTTP " + r.status); return r.json(); })
      .then(function (sweep) {
        return Promise.all([pixels(sweep.original.url), pixels(sweep.sign.url)]).then(function (p) {
          if (!section.isConnected) return;  // a newer result replaced this one meanwhile
          var live = new Live(section, slider, sweep, p[0], p[1]);
          // A newer result (htmx swapped #result) has its own Live: this one lets go of the slider.
          function onInput() { if (gone()) return; clearTimeout(live.settle); live.draw(); }
          function onChange() { if (!gone()) live.remember(); }
          function gone() {
            if (section.isConnected) return false;
            slider.removeEventListener("input", onInput);
            slider.removeEventListener("change", onChange);
            return true;
          }
          slider.addEventListener("input", onInput);
          slider.addEventListener("change", onChange);
          section.dataset.ready = "live";
        });
      })
      .catch(function () {
        // No sweep: the slider runs FGSM on the server when it is let go.
        section.dataset.ready = "server";
        slider.addEventListener("change", function () { if (section.isConnected) serverResult(slider); });
      });
  }

  function init() {
    document.querySelectorAll("[data-sweep]:not([data-ready])").forEach(start);
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
