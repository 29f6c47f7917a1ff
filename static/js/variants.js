// The product page's variant picker (templates/shop/_variant_picker.html): the option selects
// (size, colour...) choose the variant in the add-to-cart form's own select, and the page shows
// that variant's price (its sale price with the old one struck through), its stock, its photo and,
// when it is sold out, its "tell me when it is back" link. Everything comes from the data-*
// attributes rendered on the shared page; without this file the variant select alone works.
"use strict";
(() => {
  const picker = document.querySelector("[data-variant-picker]");
  if (!picker) return;
  const choice = picker.querySelector('select[name="variant_id"]');
  const optionSelects = [...picker.querySelectorAll("select[data-option]")];
  const stockLine = picker.querySelector("[data-variant-stock]");
  const submit = picker.querySelector("[data-variant-submit]");
  const alerts = [...picker.querySelectorAll("[data-variant-alert]")];
  const price = document.querySelector("[data-variant-price]");
  const mainImg = document.querySelector("[data-gallery-main] img");
  const originalPhoto = mainImg ? { src: mainImg.src, srcset: mainImg.srcset } : null;
  const labels = picker.dataset;
  const variants = choice ? [...choice.options] : [];

  const valuesOf = (option) => optionSelects.map((_, i) => option.dataset["v" + i] || "");
  const find = (values) =>
    variants.find((option) => valuesOf(option).every((value, i) => value === values[i]));

  const showPrice = (option) => {
    if (!price) return;
    price.textContent = "";
    if (option.dataset.onSale) {
      const before = document.createElement("del");
      const hint = document.createElement("span");
      hint.className = "visually-hidden";
      hint.textContent = labels.labelBefore + " ";
      before.append(hint, option.dataset.price);
      const now = document.createElement("ins");
      const saleHint = document.createElement("span");
      saleHint.className = "visually-hidden";
      saleHint.textContent = labels.labelSale + " ";
      now.append(saleHint, option.dataset.now);
      price.append(before, " ", now);
    } else {
      price.textContent = option.dataset.price;
    }
  };

  const show = (option, values) => {
    const inStock = option ? !option.disabled : false;
    if (option) {
      choice.value = option.value;
      showPrice(option);
    }
    if (stockLine) {
      stockLine.textContent = inStock ? option.dataset.stock : labels.labelSoldOut;
      stockLine.classList.toggle("in", inStock);
      stockLine.classList.toggle("out", !inStock);
    }
    if (submit) submit.disabled = !inStock;
    alerts.forEach((item) => {
      item.hidden = !(option && !inStock && item.dataset.variantAlert === option.value);
    });
    if (mainImg && originalPhoto) {
      const photo = option && option.dataset.image;
      mainImg.srcset = photo ? "" : originalPhoto.srcset;
      mainImg.src = photo || originalPhoto.src;
    }
    picker.dataset.chosen = option ? option.value : "";
  };

  optionSelects.forEach((select) => select.addEventListener("change", () => {
    const values = optionSelects.map((s) => s.value);
    show(find(values), values);
  }));
  if (choice) {
    choice.addEventListener("change", () => {
      const option = choice.options[choice.selectedIndex];
      valuesOf(option).forEach((value, i) => { optionSelects[i].value = value; });
      show(option);
    });
  }

  // With script the option selects replace the list of variants (which stays in the form).
  if (choice && optionSelects.length) {
    picker.querySelector("[data-variant-options]").hidden = false;
    picker.querySelector("[data-variant-choice]").hidden = true;
    show(choice.options[choice.selectedIndex]);
  }
})();
