// The little the page needs from JavaScript; everything works without it (forms, meta refresh).
(function () {
  "use strict";

  // The live progress bar: ask the server every 400 ms, reload once the run has finished.
  // Screen readers hear each change of step once (#progress-status), not every count; the
  // result page then says the final count (#run-announcement).
  var box = document.getElementById("progress");
  if (box) {
    var bar = document.getElementById("bar");
    var label = document.getElementById("progress-label");
    var text = document.getElementById("progress-text");
    var status = document.getElementById("progress-status");
    var url = box.getAttribute("data-progress-url");
    var step = function (words) {
      label.textContent = words;
      if (status.textContent !== words) { status.textContent = words; }
    };
    var poll = function () {
      fetch(url, { cache: "no-store", credentials: "same-origin" })
        .then(function (answer) { return answer.json(); })
        .then(function (run) {
          if (run.finished) {
            try { window.sessionStorage.setItem("announce-run", window.location.pathname); } catch (e) { /* no storage: no announcement */ }
            window.location.reload();
            return;
          }
          if (run.total > 0) {
            bar.max = run.total;
            bar.value = run.done;
            step("Sending to Apptoto…");
            text.textContent = run.done + " of " + run.total + " sent";
          } else if (run.state === "waiting") {
            step("Waiting for another import to finish…");
          }
          window.setTimeout(poll, 400);
        })
        .catch(function () { window.setTimeout(poll, 2000); });
    };
    window.setTimeout(poll, 200);
  }

  // The result page, reached from the progress bar: say the final count once.
  var announcement = document.getElementById("run-announcement");
  var followsProgress = false;
  try {
    followsProgress = window.sessionStorage.getItem("announce-run") === window.location.pathname;
    if (followsProgress) { window.sessionStorage.removeItem("announce-run"); }
  } catch (e) { /* no storage: no announcement */ }
  if (announcement && followsProgress) {
    // Filled after the page is read in, so screen readers take it as news and say it.
    window.setTimeout(function () {
      announcement.textContent = announcement.getAttribute("data-announce");
    }, 500);
  }

  // Say at once when a file is over the limit, instead of uploading it for nothing.
  var upload = document.getElementById("upload-form");
  if (upload) {
    var input = document.getElementById("spreadsheet");
    var error = document.getElementById("size-error");
    var limit = Number(upload.getAttribute("data-max-bytes"));
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      var tooBig = Boolean(file && limit && file.size > limit);
      error.hidden = !tooBig;
      error.textContent = tooBig
        ? "This file is larger than " + (limit / 1048576) + " MB: save only the rows to import in a new file."
        : "";
      input.setCustomValidity(tooBig ? "The file is too large." : "");
    });
  }

  // "Send anyway" boxes of rows that look already sent, and the box that cancels the appointments
  // no longer in the file: the Send button counts them in.
  var send = document.getElementById("send");
  var anyway = document.querySelectorAll("input[name=send_anyway]");
  var cancelBox = document.getElementById("cancel-missing");
  if (send && (anyway.length || cancelBox)) {
    var base = Number(send.getAttribute("data-count"));
    var gone = Number(send.getAttribute("data-cancel") || 0);
    var cancels = document.querySelector("[data-count=cancel] .number");
    var planned = cancels ? Number(cancels.textContent) : 0;
    var recount = function () {
      var count = base;
      anyway.forEach(function (box) { if (box.checked) { count += 1; } });
      var cancelling = cancelBox && cancelBox.checked ? gone : 0;
      var events = count + " event" + (count === 1 ? "" : "s");
      var appointments = cancelling + " appointment" + (cancelling === 1 ? "" : "s");
      send.textContent = !cancelling ? "Send " + events + " to Apptoto"
        : count ? "Send " + events + " to Apptoto and cancel " + cancelling
        : "Cancel " + appointments + " in Apptoto";
      if (cancels) { cancels.textContent = String(planned + cancelling); }
      if (!send.hasAttribute("data-blocked")) { send.disabled = count === 0 && cancelling === 0; }
    };
    anyway.forEach(function (box) { box.addEventListener("change", recount); });
    if (cancelBox) { cancelBox.addEventListener("change", recount); }
    recount();
  }

  // A second click on Send does nothing (the server would show the same run anyway).
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      window.setTimeout(function () { button.disabled = true; button.textContent = "Sending…"; }, 0);
    });
  });
})();
