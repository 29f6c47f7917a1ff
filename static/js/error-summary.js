// A form page that came back with mistakes: move focus (and the view) to its error summary at
// the top, so keyboard and screen-reader users hear what went wrong first. The summary's links
// take the focus on to the field they name.
"use strict";
(() => {
  const summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  summary.scrollIntoView({ block: "start" });
  summary.focus();
  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    if (!link) return;
    const target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    const input = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
    target.scrollIntoView({ block: "center" });
    (input || target).focus();
  });
})();
