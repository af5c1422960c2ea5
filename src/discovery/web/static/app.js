// Small progressive enhancements; every page works without this script.
(function () {
  "use strict";
  // Facet checkboxes apply at once (the "Apply filters" button does the same without script).
  var facetForm = document.getElementById("facet-form");
  if (facetForm) {
    facetForm.addEventListener("change", function (event) {
      if (event.target.classList.contains("facet-box")) facetForm.submit();
    });
  }
  // Show the semantic weight as the slider moves.
  var weight = document.getElementById("semantic_weight");
  var out = document.getElementById("sw-out");
  if (weight && out) weight.addEventListener("input", function () { out.value = weight.value; });
  // "/" focuses the search box, as on many search sites, unless the user is typing.
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (event.key !== "/" || tag === "input" || tag === "textarea" || tag === "select") return;
    var box = document.getElementById("q") || document.getElementById("header-q");
    if (box) { event.preventDefault(); box.focus(); }
  });
})();
