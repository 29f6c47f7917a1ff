// The listing form's photos: each photo chosen, dropped or taken is uploaded at once with its
// own progress bar, and the form carries the token the server gives back, so the listing (and
// its publishing) is saved by one submit. Without this file the photos go with the form's post
// and the place numbers order them.
"use strict";
(() => {
  const picker = document.querySelector("[data-photo-picker]");
  if (!picker || !window.FormData || !window.XMLHttpRequest) return;
  const form = picker.closest("form");
  const list = picker.querySelector("[data-staged-list]");
  const template = picker.querySelector("template[data-staged-template]");
  const input = picker.querySelector("input[type=file]");
  const zone = picker.querySelector("[data-dropzone]");
  const csrf = form.querySelector("input[name=csrf_token]");
  const room = Number(picker.dataset.room || "8");
  const text = picker.dataset;
  let pending = 0;

  picker.classList.add("js");
  picker.querySelectorAll(".js-only").forEach((el) => { el.hidden = false; });

  const items = () => [...list.querySelectorAll("li.staged")];

  // Places follow the list's order (the server sorts by them), buttons show where they can act.
  const renumber = () => {
    const all = items();
    all.forEach((item, index) => {
      const order = item.querySelector("input[name=staged_order]");
      if (order) order.value = String(index + 1);
      const earlier = item.querySelector("[data-move='-1']");
      const later = item.querySelector("[data-move='1']");
      if (earlier) earlier.disabled = index === 0;
      if (later) later.disabled = index === all.length - 1;
    });
    if (!list.querySelector("input[name=cover]:checked") && !picker.dataset.hasPhotos) {
      const first = list.querySelector("li.staged:not(.failed) input[name=cover]");
      if (first) first.checked = true;
    }
  };

  const enhance = (item) => {
    item.draggable = true;
    item.querySelectorAll(".js-only").forEach((el) => { el.hidden = false; });
    item.querySelectorAll(".no-js-only").forEach((el) => { el.hidden = true; });
  };
  items().forEach(enhance);
  renumber();

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const item = button.closest("li.staged");
    if (button.hasAttribute("data-remove")) {
      if (item.dataset.token && !window.confirm(text.confirmRemove)) return;
      const next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      renumber();
      (next?.querySelector("button:not([disabled])") || input).focus();
      return;
    }
    const step = Number(button.dataset.move || "0");
    if (step < 0 && item.previousElementSibling) list.insertBefore(item, item.previousElementSibling);
    if (step > 0 && item.nextElementSibling) list.insertBefore(item.nextElementSibling, item);
    renumber();
    const same = item.querySelector(`[data-move='${step}']`);
    (same && !same.disabled ? same : item.querySelector("[data-move]:not([disabled])"))?.focus();
  });

  // Dragging a photo onto another puts it there (a mouse's way; the buttons work everywhere).
  let dragged = null;
  list.addEventListener("dragstart", (event) => {
    dragged = event.target.closest("li.staged");
    if (!dragged) return;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.token || "");
    dragged.classList.add("dragged");
  });
  list.addEventListener("dragover", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const over = event.target.closest("li.staged");
    if (!over || over === dragged) return;
    const box = over.getBoundingClientRect();
    list.insertBefore(dragged, event.clientY > box.top + box.height / 2 ? over.nextElementSibling : over);
  });
  list.addEventListener("drop", (event) => { if (dragged) event.preventDefault(); });
  list.addEventListener("dragend", () => {
    dragged?.classList.remove("dragged");
    dragged = null;
    renumber();
  });

  const preview = (item, file) => {
    // The page's policy allows data: pictures (not blob:), so the preview is read as one.
    if (!window.FileReader || file.size > 15 * 1024 * 1024) return;
    const reader = new FileReader();
    reader.addEventListener("load", () => {
      const img = document.createElement("img");
      img.className = "staged-thumb";
      img.alt = "";
      img.src = String(reader.result);
      item.querySelector(".staged-thumb").replaceWith(img);
    });
    reader.readAsDataURL(file);
  };

  const setToken = (item, token) => {
    item.dataset.token = token;
    item.querySelectorAll("input[name=staged], input[name=cover], input[name=staged_remove]")
      .forEach((el) => { el.value = token; });
  };

  const fail = (item, message) => {
    item.classList.add("failed");
    item.querySelector("progress").hidden = true;
    const status = item.querySelector(".staged-status");
    status.textContent = message;
    status.classList.add("error");
    // Nothing of it goes with the form; only its remove button is left.
    item.querySelectorAll("input").forEach((el) => el.remove());
    item.querySelectorAll("[data-move]").forEach((el) => el.remove());
  };

  const upload = (file) => {
    const item = template.content.firstElementChild.cloneNode(true);
    enhance(item);
    item.querySelector(".staged-name").textContent = file.name;
    list.appendChild(item);
    renumber();
    preview(item, file);
    const bar = item.querySelector("progress");
    const status = item.querySelector(".staged-status");
    const body = new FormData();
    body.append("photo", file, file.name);
    if (csrf) body.append("csrf_token", csrf.value);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", picker.dataset.stageUrl);
    xhr.setRequestHeader("X-Requested-With", "fetch");
    xhr.setRequestHeader("Accept", "application/json");
    if (csrf) xhr.setRequestHeader("X-CSRFToken", csrf.value);
    bar.hidden = false;
    pending += 1;
    item.setAttribute("aria-busy", "true");
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const percent = Math.round((e.loaded / e.total) * 100);
      bar.value = percent;
      status.textContent = text.uploading.replace("{percent}", String(percent));
    });
    const done = () => { pending -= 1; item.removeAttribute("aria-busy"); };
    xhr.addEventListener("load", () => {
      done();
      let answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (_) { answer = null; }
      if (xhr.status === 201 && answer && answer.token) {
        setToken(item, answer.token);
        bar.hidden = true;
        status.textContent = text.uploaded;
        item.classList.add("uploaded");
        renumber();
        return;
      }
      if (xhr.status === 413) fail(item, text.tooLarge);
      else fail(item, (answer && answer.error) || text.failed);
    });
    xhr.addEventListener("error", () => { done(); fail(item, text.failed); });
    xhr.send(body);
  };

  const take = (files) => {
    const all = [...files].filter((f) => f && f.size >= 0);
    for (const file of all) {
      const used = items().filter((item) => !item.classList.contains("failed")).length;
      if (used >= room) {
        const item = template.content.firstElementChild.cloneNode(true);
        enhance(item);
        item.querySelector(".staged-name").textContent = file.name;
        list.appendChild(item);
        fail(item, text.tooMany);
        continue;
      }
      upload(file);
    }
    input.value = ""; // the files went up on their own: the form's post does not carry them
  };

  input.addEventListener("change", () => take(input.files));
  // Files dropped anywhere on the photos' box are taken (not opened by the browser instead).
  ["dragenter", "dragover"].forEach((name) => picker.addEventListener(name, (event) => {
    if (dragged) return;
    event.preventDefault();
    zone.classList.add("dragging");
  }));
  ["dragleave", "drop"].forEach((name) => picker.addEventListener(name, () => zone.classList.remove("dragging")));
  picker.addEventListener("drop", (event) => {
    if (dragged) return;
    event.preventDefault();
    if (event.dataTransfer?.files?.length) take(event.dataTransfer.files);
  });

  form.addEventListener("submit", (event) => {
    if (pending > 0) {
      event.preventDefault();
      window.alert(text.wait);
      return;
    }
    // A photo whose upload failed sends nothing; its row only told the seller why.
    list.querySelectorAll("li.staged.failed").forEach((item) => item.remove());
  });
})();
