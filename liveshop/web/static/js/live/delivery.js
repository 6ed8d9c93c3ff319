// When it arrives, where it goes: the room's product cards get the shop's delivery estimate
// ("Arrives Tue 9 – Thu 11 Dec") and the buy sheet shows it with the buyer's default address.
// Kept apart from the room's own scripts: it watches the product region (room.js rebuilds the
// cards from the room's state) and the taps on "Buy", and asks
// GET /api/v1/products/{id}/delivery?market=… once per product.

const cache = new Map();

function market() {
  const room = document.querySelector("[data-session-id]");
  return room ? room.dataset.market : "";
}

function delivery(productId) {
  if (!cache.has(productId)) {
    const url = `/api/v1/products/${productId}/delivery?market=${encodeURIComponent(market())}`;
    cache.set(
      productId,
      fetch(url, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : null))
        .catch(() => null),
    );
  }
  return cache.get(productId);
}

function sentence(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

async function markCard(card) {
  const id = card.dataset.productId;
  if (!id || card.querySelector(".lp-eta")) return;
  const info = await delivery(id);
  if (!info || card.querySelector(".lp-eta")) return;
  const line = document.createElement("p");
  line.className = "lp-eta";
  line.textContent = sentence(info.eta.text) + (info.eta.from_history ? "" : " (estimate)");
  line.title = info.eta.basis;
  const body = card.querySelector(".lp-body") || card;
  body.appendChild(line);
}

function markAll(root) {
  root.querySelectorAll(".live-product[data-product-id]").forEach((card) => markCard(card));
}

async function fillSheet(productId) {
  const slot = document.querySelector('[data-sheet="delivery"]');
  if (!slot) return;
  slot.hidden = true;
  const info = await delivery(productId);
  if (!info) return;
  slot.replaceChildren();
  const when = document.createElement("span");
  when.className = "sheet-eta";
  when.textContent = sentence(info.eta.text) + (info.eta.from_history ? "" : " (estimate)");
  when.title = info.eta.basis;
  slot.appendChild(when);
  const where = document.createElement("span");
  where.className = "sheet-ship-to";
  if (info.ship_to) {
    where.textContent = " · to " + info.ship_to.slice(0, 3).join(", ");
  } else {
    where.textContent = " · no delivery address yet: ";
    const link = document.createElement("a");
    link.href = "/account/addresses?next=" + encodeURIComponent(location.pathname);
    link.textContent = "add one";
    where.appendChild(link);
  }
  slot.appendChild(where);
  const change = document.createElement("a");
  change.className = "sheet-change-address";
  change.href = "/account/addresses?next=" + encodeURIComponent(location.pathname);
  change.textContent = info.ship_to ? " (change)" : "";
  slot.appendChild(change);
  slot.hidden = false;
}

const region = document.querySelector('[data-region="product"]');
if (region) {
  markAll(region);
  new MutationObserver(() => markAll(region)).observe(region, { childList: true, subtree: true });
  region.addEventListener("click", (event) => {
    const button = event.target.closest(".buy-btn");
    const card = button && button.closest(".live-product[data-product-id]");
    if (card) fillSheet(card.dataset.productId);
  });
}
