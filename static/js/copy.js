// A "Copy" button beside a read-only field shown once (a new API key, a signing secret):
// <button data-copy="<field id>" data-copied="…" data-copy-fallback="…" hidden>. Without JavaScript the button
// stays hidden and the field can be selected by hand; where the Clipboard API is refused (not a secure context,
// permission denied) the text is selected and the fallback message says how to copy it.
(function () {
  "use strict";
  function say(button, text) {
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    if (status) { status.textContent = text; }
  }
  function select(field) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    button.hidden = false;
    field.addEventListener("focus", function () { field.select(); });
    button.addEventListener("click", function () {
      var fallback = function () {
        select(field);
        say(button, button.getAttribute("data-copy-fallback"));
      };
      if (!navigator.clipboard || !window.isSecureContext) { fallback(); return; }
      navigator.clipboard.writeText(field.value).then(function () {
        say(button, button.getAttribute("data-copied"));
      }, fallback);
    });
  });
})();
