// The booth page: tap products, set quantities and prices, cash or card, "record". Each entry
// goes into a queue kept in this browser (localStorage) with a random key, and is sent as JSON
// to the server; while the connection is down it waits, and it is sent again when the
// connection returns, when the page opens and every 15 seconds. The server keeps one record per
// key however often an entry is sent, so an answer lost on the way does no harm.
// Without this file the page offers the offline sale form instead.
"use strict";
(() => {
  const root = document.querySelector("[data-booth]");
  if (!root || !window.fetch || !window.localStorage || !window.JSON) return;
  const t = root.dataset;
  const queueName = `bazarche-booth:${t.queueKey}`;
  const placeName = `bazarche-booth-place:${t.queueKey}`;
  const fa = document.documentElement.lang === "fa";
  const unit = Number(t.unit) || 10;
  const numbers = new Intl.NumberFormat(fa ? "fa-IR" : "en-US", {
    maximumFractionDigits: unit === 10 ? 0 : 2,
  });
  const RETRY_MS = 15000;

  const $ = (selector) => root.querySelector(selector);
  const placeInput = $("[data-booth-place]");
  const linesBox = $("[data-booth-lines]");
  const saleTotal = $("[data-booth-sale-total]");
  const errorBox = $("[data-booth-error]");
  const queueBox = $("[data-booth-queue]");
  const summary = $("[data-booth-summary]");
  const connection = $("[data-booth-connection]");
  const takeStock = $("[data-booth-take-stock]");

  // ---- numbers typed in any digits --------------------------------------------------------
  const LOCAL = "۰۱۲۳۴۵۶۷۸۹";
  const ARABIC = "٠١٢٣٤٥٦٧٨٩";
  const ascii = (text) =>
    String(text).replace(/[۰-۹٠-٩]/g, (d) =>
      String(LOCAL.includes(d) ? LOCAL.indexOf(d) : ARABIC.indexOf(d)),
    );
  // A typed price as a number of typed units (toman), or NaN.
  const typedNumber = (text) => {
    const raw = ascii(text).replace(/[,\u066c\u060c\s_']/g, "").replace("\u066b", ".");
    return /^\d+(\.\d{1,2})?$/.test(raw) ? Number(raw) : NaN;
  };
  const shown = (value) => numbers.format(value);
  const money = (typed) => `${numbers.format(typed)} ${t.moneyLabel}`;
  const localDigits = (text) => (fa ? String(text).replace(/\d/g, (d) => LOCAL[d]) : String(text));

  // ---- the day in the market's time zone --------------------------------------------------
  const today = () => {
    try {
      const parts = new Intl.DateTimeFormat("en-US", {
        timeZone: t.timezone, year: "numeric", month: "2-digit", day: "2-digit",
      }).formatToParts(new Date());
      const part = (type) => parts.find((p) => p.type === type).value;
      return `${part("year")}-${part("month")}-${part("day")}`;
    } catch (error) {
      const now = new Date();
      const two = (n) => String(n).padStart(2, "0");
      return `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`;
    }
  };

  const newKey = () => {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  };

  // ---- the queue in localStorage (read fresh each time: another tab may have changed it) ----
  const load = () => {
    try {
      const list = JSON.parse(localStorage.getItem(queueName) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (error) {
      return [];
    }
  };
  const save = (list) => {
    const day = today();
    // Sent entries of earlier days are done with; waiting and refused ones stay.
    const kept = list.filter((e) => e.status !== "sent" || e.sold_on === day);
    localStorage.setItem(queueName, JSON.stringify(kept));
  };
  const update = (key, change) => {
    const list = load();
    const entry = list.find((e) => e.client_key === key);
    if (entry) {
      Object.assign(entry, change);
      save(list);
    }
  };

  // ---- the sale being put together ---------------------------------------------------------
  let lines = []; // {product_id, title, quantity, price (as typed)}

  const lineTotal = (line) => typedNumber(line.price) * line.quantity;

  const button = (text, label, onClick, className) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    if (label) b.setAttribute("aria-label", label);
    if (className) b.className = className;
    b.addEventListener("click", onClick);
    return b;
  };

  const drawLines = () => {
    linesBox.replaceChildren();
    lines.forEach((line, index) => {
      const li = document.createElement("li");
      li.className = "booth-line";
      const title = document.createElement("span");
      title.className = "booth-line-title";
      title.textContent = line.title;
      const quantity = document.createElement("span");
      quantity.className = "booth-quantity";
      const count = document.createElement("output");
      count.textContent = shown(line.quantity);
      count.setAttribute("aria-live", "polite");
      quantity.append(
        button("−", t.tFewer, () => {
          line.quantity -= 1;
          if (line.quantity <= 0) lines.splice(index, 1);
          drawLines();
        }, "secondary"),
        count,
        button("+", t.tMore, () => {
          line.quantity += 1;
          drawLines();
        }, "secondary"),
      );
      const priceLabel = document.createElement("label");
      priceLabel.className = "booth-price";
      const labelText = document.createElement("span");
      labelText.className = "visually-hidden";
      labelText.textContent = `${t.tPrice} ${line.title}`;
      const price = document.createElement("input");
      price.type = "text";
      price.inputMode = "numeric";
      price.autocomplete = "off";
      price.value = localDigits(line.price);
      price.addEventListener("input", () => {
        line.price = price.value;
        drawTotal();
      });
      priceLabel.append(labelText, price);
      const remove = button("×", `${t.tRemove} ${line.title}`, () => {
        lines.splice(index, 1);
        drawLines();
      }, "secondary booth-remove");
      li.append(title, quantity, priceLabel, remove);
      linesBox.append(li);
    });
    drawTotal();
  };

  const drawTotal = () => {
    const total = lines.reduce((sum, line) => sum + lineTotal(line), 0);
    saleTotal.textContent = lines.length && !Number.isNaN(total) ? money(total) : "";
  };

  root.querySelectorAll("[data-product-id]").forEach((tile) => {
    tile.addEventListener("click", () => {
      errorBox.textContent = "";
      const id = Number(tile.dataset.productId);
      const variant = tile.dataset.variantId ? Number(tile.dataset.variantId) : null;
      const line = lines.find((l) => l.product_id === id && l.variant_id === variant);
      if (line) line.quantity += 1;
      else lines.push({ product_id: id, variant_id: variant, title: tile.dataset.title, quantity: 1, price: tile.dataset.price });
      drawLines();
    });
  });

  // ---- the place, remembered on this phone -------------------------------------------------
  placeInput.value = localStorage.getItem(placeName) || "";
  placeInput.addEventListener("input", () => localStorage.setItem(placeName, placeInput.value));

  // ---- record: into the queue, then send -------------------------------------------------
  $("[data-booth-record]").addEventListener("click", () => {
    const place = placeInput.value.trim();
    if (!place) {
      errorBox.textContent = t.tNeedPlace;
      placeInput.focus();
      return;
    }
    if (!lines.length) {
      errorBox.textContent = t.tNeedProduct;
      return;
    }
    if (lines.some((line) => Number.isNaN(typedNumber(line.price)))) {
      errorBox.textContent = t.tBadPrice;
      return;
    }
    const method = root.querySelector("input[name=booth-payment]:checked");
    const entry = {
      client_key: newKey(),
      sold_on: today(),
      place,
      payment_method: method ? method.value : "cash",
      take_stock: takeStock.checked,
      lines: lines.map((l) => ({
        product_id: l.product_id, variant_id: l.variant_id || null, title: l.title,
        quantity: l.quantity, price: ascii(l.price),
      })),
      typed_total: lines.reduce((sum, line) => sum + lineTotal(line), 0),
      status: "waiting",
      at: Date.now(),
    };
    const list = load();
    list.push(entry);
    save(list);
    lines = [];
    errorBox.textContent = t.tRecorded;
    drawLines();
    drawQueue();
    send();
  });

  // ---- the entries and their state -------------------------------------------------------
  const STATUS = { sent: "tSent", waiting: "tWaiting", refused: "tRefused" };
  let signInNeeded = false;

  const drawQueue = () => {
    const list = load();
    const day = today();
    queueBox.replaceChildren();
    list.slice().reverse().forEach((entry) => {
      const li = document.createElement("li");
      li.className = `booth-entry booth-${entry.status}`;
      li.dataset.clientKey = entry.client_key;
      li.dataset.status = entry.status;
      const what = document.createElement("span");
      what.className = "booth-entry-lines";
      what.textContent = entry.lines
        .map((l) => `${l.title} × ${shown(l.quantity)}`)
        .join(fa ? "، " : ", ");
      const amount = document.createElement("span");
      amount.className = "price";
      amount.textContent = entry.amount_text || money(entry.typed_total);
      const method = document.createElement("span");
      method.textContent = entry.payment_method === "card" ? t.tCard : t.tCash;
      const state = document.createElement("strong");
      state.className = "booth-state";
      state.textContent = t[STATUS[entry.status]] || entry.status;
      li.append(what, " ", amount, " ", method, " ", state);
      if (entry.status === "refused") {
        const why = document.createElement("span");
        why.className = "error";
        why.textContent = entry.message || "";
        li.append(" ", why, " ", button(t.tRemove, "", () => {
          save(load().filter((e) => e.client_key !== entry.client_key));
          drawQueue();
        }, "secondary small"));
      }
      queueBox.append(li);
    });
    const waiting = list.filter((e) => e.status === "waiting").length;
    const sentToday = list
      .filter((e) => e.status === "sent" && e.sold_on === day)
      .reduce((sum, e) => sum + (Number(e.amount) || 0), 0);
    summary.replaceChildren();
    const waitingText = document.createElement("span");
    waitingText.dataset.boothWaiting = String(waiting);
    waitingText.textContent = `${t.tWaitingCount} ${shown(waiting)}`;
    const totalText = document.createElement("span");
    totalText.dataset.boothDayTotal = String(sentToday);
    totalText.textContent = `${t.tDayTotal} ${money(sentToday / unit)}`;
    summary.append(waitingText, document.createElement("br"), totalText);
    connection.textContent = signInNeeded
      ? t.tSignIn
      : navigator.onLine ? t.tOnline : t.tOffline;
  };

  // ---- sending -----------------------------------------------------------------------------
  let sending = false;

  const sendOne = (entry) =>
    fetch(t.recordUrl, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual", // a sign-in page is no answer: the entry keeps waiting
      headers: { "Content-Type": "application/json", "X-CSRFToken": t.csrf },
      body: JSON.stringify({
        client_key: entry.client_key,
        sold_on: entry.sold_on,
        place: entry.place,
        payment_method: entry.payment_method,
        take_stock: entry.take_stock,
        lines: entry.lines.map((l) => ({
          product_id: l.product_id, variant_id: l.variant_id || null, quantity: l.quantity, price: l.price,
        })),
      }),
    }).then((response) => {
      const json = (response.headers.get("Content-Type") || "").includes("application/json");
      if (!json) {
        // A sign-in page, an expired form token, a proxy's page: try again later.
        signInNeeded = response.type === "opaqueredirect" || response.status === 400
          || response.status === 401 || response.status === 403;
        return false;
      }
      signInNeeded = false;
      return response.json().then((answer) => {
        if (response.ok && answer.id) {
          update(entry.client_key, {
            status: "sent", id: answer.id, amount: answer.amount, amount_text: answer.amount_text,
          });
        } else if (response.status >= 400 && response.status < 500 && answer.error) {
          update(entry.client_key, { status: "refused", message: answer.error });
        } else {
          return false; // the server had trouble: try again later
        }
        return true;
      });
    });

  const send = () => {
    if (sending) return;
    const waiting = load().filter((e) => e.status === "waiting");
    if (!waiting.length) {
      drawQueue();
      return;
    }
    sending = true;
    let chain = Promise.resolve(true);
    waiting.forEach((entry) => {
      chain = chain.then((goOn) => (goOn ? sendOne(entry) : false));
    });
    chain
      .catch(() => false) // no connection: they wait
      .then(() => {
        sending = false;
        drawQueue();
      });
  };

  window.addEventListener("online", send);
  window.addEventListener("offline", drawQueue);
  window.addEventListener("storage", (event) => {
    if (event.key === queueName) drawQueue();
  });
  setInterval(send, RETRY_MS);

  // The page itself opens again without a connection (static/js/booth-sw.js).
  if ("serviceWorker" in navigator && t.workerUrl) {
    navigator.serviceWorker.register(t.workerUrl, { scope: t.pageUrl }).catch(() => {});
  }

  root.hidden = false;
  drawLines();
  drawQueue();
  send();
})();
