// Every page (base.html). A table wider than the screen scrolls inside itself; keyboard users must be able to
// scroll it too, so such a table (or its .table-scroll box) is made focusable while it overflows, and only then.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll("main table, main .table-scroll").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.tabIndex = 0;
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
      }
    });
  }
  mark();
  window.addEventListener("resize", mark);
  document.body.addEventListener("htmx:afterSettle", mark);
})();
