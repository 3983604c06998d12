// Enhancements only: every page works without this script.
"use strict";
(function () {
  // The error summary takes the focus, so a screen reader announces it first.
  var summary = document.querySelector(".error-summary");
  if (summary) summary.focus();

  // "N/100 characters remaining", live as the customer types.
  document.querySelectorAll("[data-counter]").forEach(function (input) {
    var out = document.getElementById(input.dataset.counter);
    var max = Number(input.dataset.max);
    var template = out.dataset.template;
    var update = function () {
      out.textContent = template.replace("{remaining}", String(max - input.value.length));
    };
    input.addEventListener("input", update);
    update();
  });

  // Filtering the platforms as the customer types (the search button does it without).
  document.querySelectorAll("[data-filter]").forEach(function (input) {
    var list = document.getElementById(input.dataset.filter);
    var none = document.getElementById("platform-none");
    var update = function () {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      list.querySelectorAll("li[data-name]").forEach(function (item) {
        var match = item.dataset.name.indexOf(q) !== -1;
        item.hidden = !match;
        if (match) shown += 1;
      });
      none.textContent = none.dataset.template.replace("{q}", input.value.trim());
      none.hidden = shown > 0;
    };
    input.addEventListener("input", update);
  });
})();
