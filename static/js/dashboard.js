// The dashboard's live part (templates/tenancy/dashboard.html) polls every 15 s and when the tab becomes
// visible again. A hidden tab asks nothing: the check is here rather than in an hx-trigger filter, which htmx
// would eval (refused by the Content-Security-Policy).
(function () {
  "use strict";
  document.body.addEventListener("htmx:confirm", function (evt) {
    if (evt.detail.elt.hasAttribute("data-poll-while-visible") && document.visibilityState !== "visible") {
      evt.preventDefault();
    }
  });
})();
