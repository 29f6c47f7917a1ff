// Hearts, follow buttons and "tell me when it is back" buttons. Shared pages draw them
// unpressed for everyone; this asks which are the visitor's own once per page and presses them
// with a POST of the link's address.
// Without this file each link opens a small page with the form.
"use strict";
(() => {
  const script = document.currentScript;
  const idsUrl = script && script.dataset.ids;
  const hearts = () => document.querySelectorAll("[data-favourite]");
  const follows = () => document.querySelectorAll("[data-follow]");
  const alerts = () => document.querySelectorAll("[data-stock-alert]");
  if (!idsUrl || (!hearts().length && !follows().length && !alerts().length) || !window.fetch)
    return;
  let state = null;

  const mark = (el, on) => {
    el.setAttribute("aria-pressed", on ? "true" : "false");
    if (el.dataset.on && el.dataset.off) el.textContent = on ? el.dataset.on : el.dataset.off;
  };

  const show = () => {
    const products = new Set(state.products.map(String));
    const shops = new Set(state.shops.map(String));
    const waiting = new Set((state.alerts || []).map(String));
    hearts().forEach((el) => mark(el, products.has(el.dataset.favourite)));
    follows().forEach((el) => mark(el, shops.has(el.dataset.follow)));
    alerts().forEach((el) => mark(el, waiting.has(el.dataset.stockAlert)));
  };

  const press = (el, event) => {
    if (!state) return; // not known yet: the link's own page does it
    if ((el.dataset.follow || el.dataset.stockAlert) && !state.signed_in) return; // log in first
    event.preventDefault();
    const want = el.getAttribute("aria-pressed") !== "true";
    const target = new URL(el.href, window.location.href);
    // A visitor without a session gets a form token only now (looking needs no cookie).
    const token = state.csrf_token
      ? Promise.resolve(state.csrf_token)
      : load(true).then(() => state.csrf_token);
    token
      .then((csrf) => {
        if (!csrf) throw new Error("no token");
        return fetch(target.pathname, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrf },
          body: new URLSearchParams({ csrf_token: csrf, want: want ? "1" : "0" }),
        });
      })
      .then((response) => {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then((answer) => {
        const id = Number(el.dataset.favourite || el.dataset.follow || el.dataset.stockAlert);
        if (el.dataset.stockAlert && !state.alerts) state.alerts = [];
        const list = el.dataset.favourite
          ? state.products
          : el.dataset.follow
            ? state.shops
            : state.alerts;
        const on = Boolean(answer.favourite ?? answer.following ?? answer.waiting);
        const at = list.indexOf(id);
        if (on && at < 0) list.push(id);
        if (!on && at >= 0) list.splice(at, 1);
        show();
      })
      .catch(() => {
        window.location.href = el.href;
      });
  };

  document.addEventListener("click", (event) => {
    const el = event.target.closest("[data-favourite], [data-follow], [data-stock-alert]");
    if (el) press(el, event);
  });

  function load(withToken) {
    const url = withToken ? `${idsUrl}?token=1` : idsUrl;
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((answer) => {
        if (!answer) return;
        state = answer;
        show();
      });
  }

  load(false).catch(() => {});
})();
