/* Home Craft 3D — progressive enhancement only. Every page works without this file.
 *
 * - <details class="dropdown">: close on outside click, on Escape (focus returns to the
 *   summary) and when another dropdown opens.
 * - Flash messages: a close button on each; success/info messages fade out after a while
 *   unless the pointer or focus is on them (errors and warnings stay until closed).
 * - <form data-confirm="Really?">: ask before submitting (a button may carry its own
 *   data-confirm, e.g. a "Remove" button in a form with several actions).
 * - [data-countdown]: counts the seconds down in place (429 page).
 */
(function () {
  "use strict";

  var doc = document;
  doc.documentElement.classList.add("js");

  /* Dropdowns ------------------------------------------------------------- */
  function openDropdowns() {
    return doc.querySelectorAll("details.dropdown[open]");
  }
  doc.addEventListener("click", function (event) {
    openDropdowns().forEach(function (d) {
      if (!d.contains(event.target)) d.removeAttribute("open");
    });
  });
  doc.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    openDropdowns().forEach(function (d) {
      d.removeAttribute("open");
      var summary = d.querySelector("summary");
      if (summary && d.contains(doc.activeElement)) summary.focus();
    });
  });
  doc.querySelectorAll("details.dropdown").forEach(function (d) {
    d.addEventListener("toggle", function () {
      if (!d.open) return;
      openDropdowns().forEach(function (other) {
        if (other !== d) other.removeAttribute("open");
      });
    });
  });

  /* Flash messages --------------------------------------------------------- */
  var CLOSE_ICON =
    '<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><path d="M5.3 5.3a1 1 0 0 1 1.4 0L10 8.6l3.3-3.3a1 1 0 1 1 1.4 1.4L11.4 10l3.3 3.3a1 1 0 0 1-1.4 1.4L10 11.4l-3.3 3.3a1 1 0 0 1-1.4-1.4L8.6 10 5.3 6.7a1 1 0 0 1 0-1.4z"/></svg>';

  function dismiss(alertEl) {
    alertEl.classList.add("is-leaving");
    window.setTimeout(function () {
      var parent = alertEl.parentNode;
      alertEl.remove();
      if (parent && parent.classList.contains("messages") && !parent.querySelector(".alert")) {
        parent.remove();
      }
    }, 260);
  }

  doc.querySelectorAll("[data-flash]").forEach(function (alertEl) {
    var button = doc.createElement("button");
    button.type = "button";
    button.className = "alert__close";
    button.setAttribute("aria-label", "Dismiss message");
    button.innerHTML = CLOSE_ICON;
    button.addEventListener("click", function () { dismiss(alertEl); });
    alertEl.appendChild(button);

    var level = alertEl.getAttribute("data-flash");
    if (level !== "success" && level !== "info") return;
    var remaining = 8000;
    var started = Date.now();
    var timer = null;
    var paused = false;
    function start() {
      started = Date.now();
      timer = window.setTimeout(function () { dismiss(alertEl); }, remaining);
    }
    function pause() {
      if (paused) return;
      paused = true;
      window.clearTimeout(timer);
      remaining = Math.max(2000, remaining - (Date.now() - started));
    }
    function resume() {
      if (!paused || alertEl.contains(doc.activeElement)) return;
      paused = false;
      start();
    }
    alertEl.addEventListener("mouseenter", pause);
    alertEl.addEventListener("focusin", pause);
    alertEl.addEventListener("mouseleave", resume);
    alertEl.addEventListener("focusout", function () { window.setTimeout(resume, 0); });
    start();
  });

  /* Confirmations ------------------------------------------------------------ */
  doc.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  /* Countdown ----------------------------------------------------------------- */
  doc.querySelectorAll("[data-countdown]").forEach(function (el) {
    var seconds = parseInt(el.getAttribute("data-countdown"), 10);
    if (!(seconds > 0)) return;
    var interval = window.setInterval(function () {
      seconds -= 1;
      if (seconds <= 0) {
        window.clearInterval(interval);
        el.textContent = "0";
        var ready = doc.querySelector("[data-countdown-done]");
        if (ready) ready.hidden = false;
        return;
      }
      el.textContent = String(seconds);
    }, 1000);
  });
})();
