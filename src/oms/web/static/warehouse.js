// The pack station's behaviours (a file: the pages allow scripts from 'self' only). After
// each scan the station is swapped in place by htmx (a refused scan answers 422, swapped
// too), the scan field gets the focus back and a short tone says ok (high) or refused
// (low, longer). Without this file the station works with plain form posts.
(function () {
  "use strict";
  var audio = null;
  function beep(ok) {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      audio = audio || new Context();
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = ok ? "sine" : "square";
      osc.frequency.value = ok ? 1320 : 220;
      gain.gain.value = 0.15;
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + (ok ? 0.08 : 0.35));
    } catch (e) { /* no sound, the screen says it */ }
  }
  function settle() {
    var station = document.getElementById("station");
    if (!station) { return; }
    var result = station.getAttribute("data-scan");
    if (result) { beep(result === "ok"); }
    // The answer brings an empty field; what is in it now was typed since (a scanner fires
    // the next code at once): keep it, only make sure the field has the focus.
    var field = document.getElementById("scan");
    if (field && document.activeElement !== field) { field.focus(); }
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSettle", settle);
  document.addEventListener("DOMContentLoaded", settle);
})();
