// Small progressive enhancements; every page works without this script.
(function () {
  "use strict";
  var REFOCUS = "discovery-refocus";  // sessionStorage: the control to focus on the next page

  // The filters panel on a narrow screen: its button shows and hides it (style.css hides it
  // while aria-expanded is "false"; on a wide screen the button is not shown at all).
  var toggle = document.getElementById("refine-toggle");
  function expand(open) {
    if (toggle) toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  if (toggle) {
    toggle.addEventListener("click", function () {
      expand(toggle.getAttribute("aria-expanded") !== "true");
    });
  }

  // A change reloads the page; remember which control it was, so that focus comes back to it
  // rather than to the top of the page (issue 11: 83 Tabs from the top to the first result).
  function remember(target) {
    try {
      sessionStorage.setItem(REFOCUS, JSON.stringify({path: location.pathname, target: target}));
    } catch (error) { /* storage refused: focus starts at the top, as without script */ }
  }
  function recall() {
    var saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(REFOCUS) || "null");
      sessionStorage.removeItem(REFOCUS);
    } catch (error) { return null; }
    return saved && saved.path === location.pathname ? saved.target : null;
  }
  function find(target) {
    if (target.id) return document.getElementById(target.id);
    var boxes = document.querySelectorAll("input.facet-box");
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].value === target.value) return boxes[i];
    }
    return null;
  }

  // A facet box applies at once: it follows the link the server gave it for that change (the
  // same toggle link /api/search returns); without script the "Apply filters" button sends the form.
  var facetForm = document.getElementById("facet-form");
  if (facetForm) {
    facetForm.addEventListener("change", function (event) {
      if (!event.target.classList.contains("facet-box")) return;
      remember({value: event.target.value});
      var link = event.target.getAttribute("data-toggle");
      if (link) location.assign(link); else facetForm.submit();
    });
    facetForm.addEventListener("submit", function (event) {
      if (event.submitter && event.submitter.id) remember({id: event.submitter.id});
    });
  }
  var sortForm = document.querySelector(".sort-form");
  if (sortForm) sortForm.addEventListener("submit", function () { remember({id: "sort"}); });
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-refocus]") : null;
    if (link) remember({id: link.getAttribute("data-refocus")});
  });

  var back = recall();
  if (back) {
    // A ticked value may have left the list; then the count of results says what changed.
    var element = find(back) || document.getElementById("results-heading");
    if (element) {
      if (toggle && element.closest("#refine")) expand(true);
      element.focus();
    }
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
