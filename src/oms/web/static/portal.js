// The portal's few behaviours, loaded as a file (the pages allow scripts from 'self' only).
// "/" jumps to the order search; the tenant switcher sends itself when changed; a
// "select all" box ticks its group in the exceptions queue; a data-confirm button asks first.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA");
    if (event.key === "/" && !typing) {
      var search = document.getElementById("q");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    }
  });
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("select[data-autosubmit]")) { target.form.requestSubmit(); }
    var group = target.getAttribute("data-select-all");
    if (group) {
      document.querySelectorAll('input[data-group="' + group + '"]').forEach(function (box) {
        box.checked = target.checked;
      });
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
})();
