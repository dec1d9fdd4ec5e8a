// Module config: focus goes to the first field the server refused, so the accountant
// lands on what to correct (the error summary above the form links to every one).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-first-error]");
    if (!form) { return; }
    var field = document.getElementById(form.getAttribute("data-first-error"));
    if (field) { field.focus(); }
  });
})();
