// Revealed personal details hide themselves when their time is up: an element with
// data-hide-after="<seconds>" is removed from the page then (not merely hidden, so it is
// gone from the screen and from the page's text), and the element named by
// data-hidden-shows (the form to show them again) appears in its place. The server stops
// showing them at the same moment, so a reload or Back brings nothing back.
(function () {
  "use strict";

  function hideLater(shown) {
    var seconds = parseInt(shown.getAttribute("data-hide-after"), 10);
    var deadline = Date.now() + (isNaN(seconds) ? 0 : seconds) * 1000;
    var timer = null;

    function hide() {
      if (!shown.parentNode) return;
      var focusWasInside = shown.contains(document.activeElement);
      var replacement = document.getElementById(shown.getAttribute("data-hidden-shows"));
      shown.parentNode.removeChild(shown);
      if (replacement) {
        replacement.hidden = false;
        if (focusWasInside) {
          var button = replacement.querySelector("button");
          if (button) button.focus();
        }
      }
    }

    function check() {
      window.clearTimeout(timer);
      if (Date.now() >= deadline) hide();
      else timer = window.setTimeout(check, Math.min(deadline - Date.now(), 60000));
    }

    // A phone asleep, or a page kept in the back-forward cache, does not run timers on
    // time: look again whenever the page is seen.
    document.addEventListener("visibilitychange", function () { if (!document.hidden) check(); });
    window.addEventListener("pageshow", check);
    check();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-hide-after]"), hideLater);
  });
})();
