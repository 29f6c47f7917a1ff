// The product page's photos: a thumbnail shows its photo as the main one; the main photo opens a
// full-screen viewer (a <dialog>) with the large picture, pinch or double-tap zoom, swipes
// between photos (mirrored in a right-to-left page), arrow keys and Escape. Without this file
// every photo is a link to its large picture.
"use strict";
(() => {
  const gallery = document.querySelector("[data-gallery]");
  if (!gallery || typeof HTMLDialogElement !== "function") return;
  const main = gallery.querySelector("[data-gallery-main]");
  const mainImg = main.querySelector("img");
  const thumbs = [...gallery.querySelectorAll("[data-gallery-thumb]")];
  const label = gallery.dataset;
  const rtl = getComputedStyle(gallery).direction === "rtl";
  const digits = new Intl.NumberFormat(document.documentElement.lang === "fa" ? "fa-IR" : "en-US");
  const photos = thumbs.length
    ? thumbs.map((a) => ({ src: a.dataset.large, alt: a.querySelector("img")?.alt || "", small: a.querySelector("img") }))
    : [{ src: main.getAttribute("href"), alt: mainImg?.alt || "", small: mainImg }];
  let current = 0;

  // ---- the thumbnails switch the main photo ----
  const show = (index) => {
    current = index;
    const small = photos[index].small;
    if (mainImg && small) {
      mainImg.srcset = small.srcset;
      mainImg.src = small.currentSrc || small.src;
      mainImg.alt = small.alt;
      mainImg.width = small.width;
      mainImg.height = small.height;
    }
    main.href = photos[index].src;
    thumbs.forEach((a, i) => {
      if (i === index) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    });
  };
  thumbs.forEach((a, i) => a.addEventListener("click", (event) => {
    event.preventDefault();
    show(i);
  }));

  // ---- the viewer ----
  const dialog = document.createElement("dialog");
  dialog.className = "viewer";
  dialog.setAttribute("aria-label", label.labelViewer || "");
  const button = (name, text, symbol) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "viewer-" + name;
    b.setAttribute("aria-label", text);
    b.textContent = symbol;
    dialog.appendChild(b);
    return b;
  };
  const stage = document.createElement("div");
  stage.className = "viewer-stage";
  const big = document.createElement("img");
  big.className = "viewer-img";
  big.draggable = false;
  stage.appendChild(big);
  dialog.appendChild(stage);
  const closeButton = button("close", label.labelClose, "×");
  const prevButton = button("prev", label.labelPrevious, rtl ? "›" : "‹");
  const nextButton = button("next", label.labelNext, rtl ? "‹" : "›");
  const counter = document.createElement("p");
  counter.className = "viewer-counter";
  counter.setAttribute("aria-live", "polite");
  dialog.appendChild(counter);
  const hint = document.createElement("p");
  hint.className = "viewer-hint";
  hint.textContent = label.labelZoom || "";
  dialog.appendChild(hint);
  if (photos.length < 2) { prevButton.hidden = true; nextButton.hidden = true; }
  document.body.appendChild(dialog);

  let scale = 1, x = 0, y = 0;
  const apply = () => {
    big.style.transform = `translate(${x}px, ${y}px) scale(${scale})`;
    dialog.classList.toggle("zoomed", scale > 1);
  };
  const resetZoom = () => { scale = 1; x = 0; y = 0; apply(); };

  const open = (index) => {
    current = (index + photos.length) % photos.length;
    big.src = photos[current].src;
    big.alt = photos[current].alt;
    counter.textContent = (label.labelCounter || "{n} / {total}")
      .replace("{n}", digits.format(current + 1))
      .replace("{total}", digits.format(photos.length));
    dialog.dataset.index = String(current);
    resetZoom();
  };
  const step = (by) => { if (photos.length > 1) open(current + by); };

  main.addEventListener("click", (event) => {
    event.preventDefault();
    open(current);
    dialog.showModal();
    closeButton.focus();
  });
  closeButton.addEventListener("click", () => dialog.close());
  prevButton.addEventListener("click", () => step(-1));
  nextButton.addEventListener("click", () => step(1));
  dialog.addEventListener("close", () => {
    resetZoom();
    show(current);
    main.focus();
  });
  dialog.addEventListener("keydown", (event) => {
    // In a right-to-left page the next photo is to the left.
    if (event.key === "ArrowRight") { event.preventDefault(); step(rtl ? -1 : 1); }
    if (event.key === "ArrowLeft") { event.preventDefault(); step(rtl ? 1 : -1); }
  });
  // A click on the backdrop (outside the picture and the buttons) closes the viewer.
  dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });

  // ---- touch and mouse: pinch, double-tap, pan, swipe ----
  const pointers = new Map();
  let start = null;  // the gesture's start: pointers, scale and offset
  let lastTap = 0;
  const distance = () => {
    const [a, b] = [...pointers.values()];
    return Math.hypot(a.x - b.x, a.y - b.y);
  };
  const begin = () => {
    const first = [...pointers.values()][0];
    start = { x: first.x, y: first.y, scale, ox: x, oy: y, dist: pointers.size > 1 ? distance() : 0, moved: false };
  };
  stage.addEventListener("pointerdown", (event) => {
    stage.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    begin();
  });
  stage.addEventListener("pointermove", (event) => {
    if (!pointers.has(event.pointerId) || !start) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (pointers.size > 1 && start.dist) {
      scale = Math.min(4, Math.max(1, start.scale * (distance() / start.dist)));
      start.moved = true;
      if (scale === 1) { x = 0; y = 0; }
      apply();
      return;
    }
    const p = pointers.get(event.pointerId);
    const dx = p.x - start.x, dy = p.y - start.y;
    if (Math.abs(dx) > 8 || Math.abs(dy) > 8) start.moved = true;
    if (scale > 1) { x = start.ox + dx; y = start.oy + dy; apply(); }
    else { big.style.transform = `translateX(${dx}px)`; }
  });
  const end = (event) => {
    if (!pointers.has(event.pointerId)) return;
    const p = { x: event.clientX, y: event.clientY };
    pointers.delete(event.pointerId);
    if (!start) return;
    if (pointers.size) { begin(); return; }  // a pinch became a pan: go on from here
    const dx = p.x - start.x, dy = p.y - start.y;
    const gesture = start;
    start = null;
    if (!gesture.moved && event.type === "pointerup") {
      const now = Date.now();
      if (now - lastTap < 300) { lastTap = 0; zoomAt(p.x, p.y); return; }
      lastTap = now;
    }
    if (scale > 1) return;
    if (Math.abs(dx) > 50 && Math.abs(dx) > Math.abs(dy)) {
      // A swipe brings the photo that lies on the side it pulls in from: the next one comes
      // from the end of the line (the right in LTR, the left in RTL).
      const towardsStart = rtl ? dx > 0 : dx < 0;
      step(towardsStart ? 1 : -1);
      return;
    }
    apply();
  };
  const zoomAt = (cx, cy) => {
    if (scale > 1) { resetZoom(); return; }
    const box = stage.getBoundingClientRect();
    scale = 2.5;
    x = (box.left + box.width / 2 - cx) * (scale - 1);
    y = (box.top + box.height / 2 - cy) * (scale - 1);
    apply();
  };
  stage.addEventListener("pointerup", end);
  stage.addEventListener("pointercancel", end);
  stage.addEventListener("dblclick", (event) => { event.preventDefault(); });
})();
