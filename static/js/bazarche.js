// Small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const message = form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Photo uploads with a progress bar (the form still works as a plain POST without script).
document.querySelectorAll("form[data-upload]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    const input = form.querySelector("input[type=file]");
    if (!input || !input.files.length || !window.FormData) return;
    event.preventDefault();
    const bar = form.querySelector("progress");
    const status = form.querySelector(".upload-status");
    const button = form.querySelector("button[type=submit]");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "fetch");
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    button.disabled = true;
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const percent = Math.round((e.loaded / e.total) * 100);
      bar.value = percent;
      status.textContent = status.dataset.uploading.replace("{percent}", String(percent));
      if (percent >= 100) status.textContent = status.dataset.processing;
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (_) { body = null; }
      if (body && body.redirect) {
        window.location.assign(body.redirect);
        window.location.reload();
        return;
      }
      if (xhr.status === 413) {
        status.textContent = status.dataset.tooLarge;
        button.disabled = false;
        bar.hidden = true;
        return;
      }
      status.textContent = status.dataset.failed;
      button.disabled = false;
    });
    xhr.addEventListener("error", () => {
      status.textContent = status.dataset.failed;
      button.disabled = false;
      bar.hidden = true;
    });
    xhr.send(new FormData(form));
  });
});
