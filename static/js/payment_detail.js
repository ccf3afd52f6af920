// The payment page (templates/payments/payment_detail.html) polls itself while the customer decides.
// The poll swaps the page only when it changed, so the buttons under the cashier's finger stay put meanwhile.
(function () {
  "use strict";
  function shape(root) {
    var copy = root.cloneNode(true);
    copy.querySelectorAll("input[name=csrfmiddlewaretoken], input[name=request_token]").forEach(function (i) {
      i.setAttribute("value", "");
    });
    return copy.innerHTML + (root.hasAttribute("hx-get") ? "|polling" : "");
  }
  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail.target;
    if (target.id !== "payment-page" || evt.detail.xhr.status !== 200) { return; }
    var next = new DOMParser().parseFromString(evt.detail.serverResponse, "text/html").getElementById("payment-page");
    if (next && shape(next) === shape(target)) { evt.detail.shouldSwap = false; }
  });
})();
