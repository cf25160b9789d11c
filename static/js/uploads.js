/* Home Craft 3D — catalog enhancements. Progressive: every form and link works without it.
 *
 * - <form data-upload> (listing editor): send the file with XMLHttpRequest so a
 *   <progress data-upload-progress> can show how far the upload got. The endpoint answers
 *   `Accept: application/json` with {ok, message, redirect} or {ok: false, error}. On
 *   success the page reloads (flash message + updated checklist); on an error the message
 *   shows in [data-upload-error] and the form can be sent again. When the upload has
 *   finished, the form carries data-upload-done="1" (handy for tests).
 * - [data-gallery] (product page): a thumbnail click shows that picture in the large slot
 *   instead of opening the full-size file (which is what the link does without JS).
 */
(function () {
  "use strict";

  var GENERIC_ERROR = "The upload did not go through. Check your connection and try again.";

  /* Uploads with a progress bar -------------------------------------------------- */
  function setupUpload(form) {
    var progress = form.querySelector("[data-upload-progress]");
    var percent = form.querySelector("[data-upload-percent]");
    var errorBox = form.querySelector("[data-upload-error]");
    var busy = false;

    function submitButtons() {
      return form.querySelectorAll('button[type="submit"], button:not([type]), input[type="submit"]');
    }

    function setBusy(value) {
      busy = value;
      form.setAttribute("aria-busy", value ? "true" : "false");
      submitButtons().forEach(function (button) { button.disabled = value; });
    }

    function showProgress(value) {
      var rounded = Math.max(0, Math.min(100, Math.round(value)));
      if (progress) {
        progress.hidden = false;
        progress.value = rounded;
      }
      if (percent) {
        percent.hidden = false;
        percent.textContent = rounded + "%";
      }
    }

    function hideProgress() {
      if (progress) { progress.hidden = true; progress.value = 0; }
      if (percent) { percent.hidden = true; percent.textContent = "0%"; }
    }

    function showError(message) {
      hideProgress();
      setBusy(false);
      if (errorBox) {
        errorBox.textContent = message || GENERIC_ERROR;
        errorBox.hidden = false;
      } else {
        window.alert(message || GENERIC_ERROR);
      }
    }

    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) return; // e.g. a data-confirm that was declined
      event.preventDefault();
      if (busy) return;
      if (errorBox) { errorBox.hidden = true; errorBox.textContent = ""; }
      delete form.dataset.uploadDone;

      var xhr = new XMLHttpRequest();
      var data = new FormData(form);
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.responseType = "text";

      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable && e.total > 0) showProgress((e.loaded / e.total) * 100);
      };
      xhr.onload = function () {
        var json = null;
        try { json = JSON.parse(xhr.responseText); } catch (err) { json = null; }
        if (xhr.status >= 200 && xhr.status < 300 && json && json.ok) {
          showProgress(100);
          form.dataset.uploadDone = "1";
          window.location.assign(json.redirect || window.location.pathname);
          return;
        }
        if (json && json.error) {
          showError(json.error);
        } else if (xhr.status === 403) {
          showError("Your session has expired. Reload the page and try again.");
        } else if (xhr.status === 413) {
          showError("That file is too large to upload.");
        } else {
          showError(GENERIC_ERROR);
        }
      };
      xhr.onerror = function () { showError(GENERIC_ERROR); };
      xhr.onabort = function () { showError("The upload was cancelled."); };
      xhr.ontimeout = function () { showError(GENERIC_ERROR); };

      setBusy(true);
      showProgress(0);
      xhr.send(data);
    });
  }

  document.querySelectorAll("form[data-upload]").forEach(setupUpload);

  /* Gallery thumbnails --------------------------------------------------------------- */
  document.querySelectorAll("[data-gallery]").forEach(function (gallery) {
    var main = gallery.querySelector("[data-gallery-main]");
    var mainImg = main && main.querySelector("img");
    if (!mainImg) return;
    var thumbs = gallery.querySelectorAll("[data-gallery-thumb]");
    thumbs.forEach(function (thumb) {
      thumb.addEventListener("click", function (event) {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        mainImg.src = thumb.getAttribute("data-detail");
        mainImg.alt = thumb.getAttribute("data-alt") || "";
        mainImg.removeAttribute("width");
        mainImg.removeAttribute("height");
        main.href = thumb.href;
        thumbs.forEach(function (other) { other.removeAttribute("aria-current"); });
        thumb.setAttribute("aria-current", "true");
      });
    });
  });
})();
