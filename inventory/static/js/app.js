// Small progressive enhancements for every page. No inline scripts anywhere (strict CSP).
(function () {
  "use strict";

  function setUpNavToggle() {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("site-nav");
    if (!toggle || !nav) return;
    document.documentElement.classList.add("js");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      nav.classList.toggle("is-open", !open);
    });
  }

  function focusErrorSummary() {
    var summary = document.querySelector(".error-summary");
    if (summary) summary.focus();
  }

  function confirmDangerousActions() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  // A table wider than its box scrolls sideways inside it: while it does, the box takes
  // keyboard focus (so arrow keys scroll it) and is a named region; while it does not, it
  // stays out of the tab order. Only the attributes set here are removed again.
  function focusableScrollRegions() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        var caption = wrap.querySelector("caption");
        var section = wrap.closest("section");
        var heading = section && section.querySelector("h2, h3");
        var title = document.querySelector("h1");
        var name = (caption || heading || title || {}).textContent || "Table";
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", name.replace(/\s+/g, " ").trim() + " (scrolls sideways)");
        wrap.setAttribute("data-scroll-region", "");
      } else if (!scrolls && wrap.hasAttribute("data-scroll-region")) {
        ["tabindex", "role", "aria-label", "data-scroll-region"].forEach(function (name) {
          wrap.removeAttribute(name);
        });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpNavToggle();
    focusErrorSummary();
    confirmDangerousActions();
    focusableScrollRegions();
    window.addEventListener("resize", focusableScrollRegions);
  });
})();
