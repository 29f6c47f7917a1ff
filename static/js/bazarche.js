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

// The packing slip's print button (inline handlers are not allowed by the page's policy).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});

// Suggestions as you type in the header search box.
(() => {
  const input = document.getElementById("q");
  if (!input || !window.fetch) return;
  const form = input.form;
  const list = document.createElement("ul");
  list.className = "suggestions";
  list.id = "q-suggestions";
  list.hidden = true;
  list.setAttribute("role", "listbox");
  form.appendChild(list);
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-autocomplete", "list");
  let timer = null;
  let last = "";
  const close = () => { list.hidden = true; list.replaceChildren(); };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (text.length < 2) { close(); return; }
    timer = setTimeout(async () => {
      if (text === last) return;
      last = text;
      try {
        const response = await fetch("/search/suggest?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } });
        if (!response.ok) return;
        const body = await response.json();
        if (input.value.trim() !== text) return;
        list.replaceChildren();
        for (const suggestion of body.suggestions || []) {
          const item = document.createElement("li");
          item.setAttribute("role", "option");
          const link = document.createElement("a");
          link.href = "/search?q=" + encodeURIComponent(suggestion);
          link.textContent = suggestion;
          item.appendChild(link);
          list.appendChild(item);
        }
        list.hidden = !list.children.length;
      } catch (_) { close(); }
    }, 150);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && !list.hidden) { event.preventDefault(); list.querySelector("a")?.focus(); }
    if (event.key === "Escape") close();
  });
  list.addEventListener("keydown", (event) => {
    const current = document.activeElement.closest("li");
    if (event.key === "ArrowDown" && current?.nextElementSibling) { event.preventDefault(); current.nextElementSibling.querySelector("a").focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (current?.previousElementSibling?.querySelector("a") || input).focus(); }
    if (event.key === "Escape") { close(); input.focus(); }
  });
  document.addEventListener("click", (event) => { if (!form.contains(event.target)) close(); });
})();

// Checkout: when the customer picks a province, each shipping option shows (and will post) its
// cost to that province, and the totals follow, so the order is placed at the price shown. The
// server prices every option again from the database; without this script a changed cost is
// shown on a second page before anything is placed.
(() => {
  const form = document.querySelector("form[data-reprice]");
  const province = form?.querySelector("select[name=province]");
  if (!form || !province || form.dataset.currency !== "IRR") return;
  const persian = document.documentElement.lang === "fa";
  const digits = new Intl.NumberFormat(persian ? "fa-IR" : "en-US");
  // As the server writes rials: in toman, rounded half up (app/core/formatting.format_money).
  const money = (rials) => digits.format(Math.floor((rials + 5) / 10)) + (persian ? " تومان" : " toman");
  const radios = [...form.querySelectorAll("input[type=radio][data-costs]")];
  const update = () => {
    const chosen = province.value;
    if (!chosen) return;
    let shipping = 0;
    for (const radio of radios) {
      const cost = JSON.parse(radio.dataset.costs || "{}")[chosen];
      if (cost === undefined) continue;
      radio.value = radio.value.split(":")[0] + ":" + cost;
      const label = radio.closest("label")?.querySelector("[data-cost]");
      if (label) label.textContent = cost === 0 ? form.dataset.free : money(cost);
      if (radio.checked) shipping += cost;
    }
    const line = document.querySelector("[data-shipping-line]");
    if (line) {
      line.hidden = shipping === 0;
      line.querySelector("[data-shipping-total]").textContent = money(shipping);
    }
    const total = document.querySelector("[data-grand-total]");
    if (total) total.textContent = money(Number(form.dataset.goods) + shipping);
    const note = form.querySelector("[data-shipping-note]");
    if (note) note.textContent = form.dataset.repriced;
  };
  province.addEventListener("change", update);
  form.addEventListener("change", (event) => { if (event.target.matches("input[data-costs]")) update(); });
  update();
})();

// The search filters: open on a wide screen for browsers that cannot show a closed <details>'s
// content by style (the page works without this: a tap on "Filters" opens them).
document.querySelectorAll("details[data-open-wide]").forEach((details) => {
  if (window.matchMedia("(min-width: 52rem)").matches) details.open = true;
});
