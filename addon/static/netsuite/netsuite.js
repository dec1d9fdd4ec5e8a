// Progress bars and confirmation prompts for the NetSuite add-on pages.
// Loaded as a file (the CSP forbids inline scripts); works without it too:
// every action is a plain form, progress just needs a page reload.
(function () {
  "use strict";
  var POLL_MS = 700;

  function poll(box) {
    var url = box.getAttribute("data-progress-url");
    var bar = box.querySelector("progress");
    var text = box.querySelector(".ns-progress-text");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (p) {
          if (p.total) { bar.max = p.total; }
          bar.value = p.done || 0;
          text.textContent = p.text;
          if (p.finished) {
            box.setAttribute("data-finished", p.status);
            window.location.reload();
          } else {
            window.setTimeout(tick, POLL_MS);
          }
        })
        .catch(function () { window.setTimeout(tick, POLL_MS * 4); });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-progress-url]").forEach(poll);
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();
