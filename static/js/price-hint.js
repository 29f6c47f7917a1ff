// The fair-price hint on the listing form: as the seller picks a category or types a price, ask
// the server again (a short pause after the last key) and show its answer in place. Without this
// file the hint of the listing's saved category shows when the form opens.
"use strict";
(() => {
  const box = document.querySelector("[data-price-hint-url]");
  if (!box || !window.fetch) return;
  const form = box.closest("form");
  const category = form.querySelector("[name=category_id]");
  const price = form.querySelector("[name=price_toman]");
  let timer = 0;
  let asked = "";
  const ask = () => {
    const query = new URLSearchParams({
      category: category ? category.value : "",
      price: price ? price.value : "",
    }).toString();
    if (query === asked) return;
    asked = query;
    fetch(`${box.dataset.priceHintUrl}?${query}`, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => { if (html !== null && asked === query) box.innerHTML = html; })
      .catch(() => {});
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(ask, 300); };
  if (category) category.addEventListener("change", ask);
  if (price) price.addEventListener("input", later);
})();
