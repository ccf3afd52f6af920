// The check-in console (templates/payments/checkin_console.html) polls its rows twice a second.
// Only the countdowns change between most polls. Swapping the whole table twice a second replaced the
// buttons under the cashier's finger, so a tap could land on a node that was gone (the tap did nothing).
// Swap only when the rows changed; otherwise update the countdown texts in place.
// "Changed" is judged on what the server said (texts and links without the countdowns), never on the markup:
// the browser may touch attributes of live nodes (a style="" appeared on the hidden CSRF input in a test run,
// which swapped the rows under the cashier's finger again), and every response carries a fresh CSRF token.
(function () {
  "use strict";
  function shape(root) {
    var copy = root.cloneNode(true);
    copy.querySelectorAll("[data-testid=countdown]").forEach(function (t) { t.textContent = ""; });
    var links = Array.prototype.map.call(copy.querySelectorAll("[href], [action]"), function (e) {
      return e.getAttribute("href") || e.getAttribute("action");
    });
    return copy.textContent.replace(/\s+/g, " ") + "|" + links.join(" ");
  }
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail.target;
    if (target.id !== "checkin-rows" || evt.detail.xhr.status !== 200) { return; }
    var next = document.createElement("div");
    next.innerHTML = evt.detail.serverResponse;
    if (shape(next) !== shape(target)) { return; }
    var fresh = next.querySelectorAll("[data-testid=countdown]");
    target.querySelectorAll("[data-testid=countdown]").forEach(function (t, i) { t.textContent = fresh[i].textContent; });
    evt.detail.shouldSwap = false;
  });
})();
