// When it arrives, where it goes: the room's product cards get the shop's delivery estimate
// ("Arrives Tue 9 – Thu 11 Dec") and the buy sheet shows it with the buyer's default address,
// which the buyer may change there (another saved address, or a new one) for this buy.
// Kept apart from the room's own scripts: it watches the product region (room.js rebuilds the
// cards from the room's state) and the taps on "Buy", and asks
// GET /api/v1/products/{id}/delivery?market=… once per product.

import { t } from "../i18n.js";
import { csrfToken } from "./format.js";

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
  line.textContent = sentence(info.eta.text) + (info.eta.from_history ? "" : t("estimate_note"));
  line.title = info.eta.basis;
  const body = card.querySelector(".lp-body") || card;
  body.appendChild(line);
}

function markAll(root) {
  root.querySelectorAll(".live-product[data-product-id]").forEach((card) => markCard(card));
}

// The buyer's addresses in this market's country (GET /api/v1/me/addresses; null when not
// signed in). The sheet's picker chooses one for this buy (buy.js sends it as address_id:
// the order keeps a copy); "Add an address" saves a new one without leaving the room.
async function myAddresses() {
  try {
    const resp = await fetch("/api/v1/me/addresses", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!resp.ok) return null;
    return (await resp.json()).filter((a) => a.country_code === market());
  } catch {
    return null;
  }
}

function node(tag, attrs = {}, text = "") {
  const made = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) made.setAttribute(k, v);
  if (text) made.textContent = text;
  return made;
}

function oneLine(address) {
  return address.lines.slice(0, 3).join(", ");
}

// The fields of a new address (the country is the market's); the server checks them with
// the country's rules and names the field it refuses.
const NEW_FIELDS = [
  ["full_name", t("full_name"), "name"],
  ["phone", t("phone"), "tel"],
  ["street_address", t("street_address"), "street-address"],
  ["city", t("town_city"), "address-level2"],
  ["country_area", t("region_state_if_your_country_uses_one"), "address-level1"],
  ["postal_code", t("postcode_zip"), "postal-code"],
];

function picker(slot, addresses, chosen, show) {
  const box = node("div", { class: "sheet-address-picker", hidden: "" });
  const select = node("select", { id: "sheet-address" });
  const label = node("label", { for: "sheet-address" }, t("deliver_to"));
  for (const a of addresses) {
    const option = node("option", { value: String(a.id) }, oneLine(a));
    if (a.id === chosen) option.selected = true;
    select.appendChild(option);
  }
  select.appendChild(node("option", { value: "new" }, t("add_an_address")));
  const form = node("div", { class: "sheet-new-address", hidden: "" });
  form.appendChild(node("p", { class: "small muted" }, t("a_new_address_in", { market: market() })));
  for (const [name, text, auto] of NEW_FIELDS) {
    const id = `sheet-new-${name}`;
    form.appendChild(node("label", { for: id }, text));
    form.appendChild(node("input", { id, name, autocomplete: auto, maxlength: "300" }));
  }
  const problem = node("p", { class: "sheet-error", role: "alert", hidden: "" });
  const save = node("button", { type: "button", class: "btn btn-secondary btn-sm" }, t("save_address"));
  form.append(problem, save);
  box.append(label, select, form);

  const pick = () => {
    form.hidden = select.value !== "new";
    if (select.value !== "new") show(addresses.find((a) => String(a.id) === select.value));
  };
  select.addEventListener("change", pick);
  // Enter in a field would submit the sheet's dialog form (closing the sheet): save instead.
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      save.click();
    }
  });
  save.addEventListener("click", async () => {
    const body = { country_code: market() };
    for (const [name] of NEW_FIELDS) body[name] = form.querySelector(`[name=${name}]`).value.trim();
    problem.hidden = true;
    save.disabled = true;
    try {
      const resp = await fetch("/api/v1/me/addresses", {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRF-Token": csrfToken(),
        },
        body: JSON.stringify(body),
      });
      const answer = await resp.json().catch(() => ({}));
      if (!resp.ok) {
        problem.textContent = answer.detail || t("that_address_could_not_be_saved");
        problem.hidden = false;
        const field = answer.field && form.querySelector(`[name=${answer.field}]`);
        if (field) field.focus();
        return;
      }
      addresses.push(answer);
      const option = node("option", { value: String(answer.id) }, oneLine(answer));
      select.insertBefore(option, select.lastElementChild);
      select.value = String(answer.id);
      for (const input of form.querySelectorAll("input")) input.value = "";
      pick();
    } catch {
      problem.textContent = t("no_connection_the_address_was_not_saved");
      problem.hidden = false;
    } finally {
      save.disabled = false;
    }
  });
  return { box, select };
}

async function fillSheet(productId) {
  const slot = document.querySelector('[data-sheet="delivery"]');
  if (!slot) return;
  slot.hidden = true;
  delete slot.dataset.addressId;
  delete slot.dataset.addressDefault;
  const [info, addresses] = await Promise.all([delivery(productId), myAddresses()]);
  if (!info) return;
  slot.replaceChildren();
  const when = node("span", { class: "sheet-eta" });
  when.textContent = sentence(info.eta.text) + (info.eta.from_history ? "" : t("estimate_note"));
  when.title = info.eta.basis;
  slot.appendChild(when);
  const where = node("span", { class: "sheet-ship-to" });
  slot.appendChild(where);
  const show = (address) => {
    if (address) {
      where.textContent = t("to") + oneLine(address);
      slot.dataset.addressId = String(address.id);
      // The buyer's default address: what a one-tap pay over the room socket delivers to.
      if (address.is_default) slot.dataset.addressDefault = "1";
      else delete slot.dataset.addressDefault;
    } else {
      where.textContent = t("no_delivery_address_yet");
      delete slot.dataset.addressId;
      delete slot.dataset.addressDefault;
    }
  };
  if (addresses === null) {
    // not signed in: the buy asks them to sign in first
    where.textContent = info.ship_to ? t("to") + info.ship_to.slice(0, 3).join(", ") : "";
    slot.hidden = false;
    return;
  }
  const preferred = addresses.find((a) => a.is_default) || addresses[0];
  show(preferred);
  const { box, select } = picker(slot, addresses, preferred ? preferred.id : null, show);
  const toggle = node(
    "button",
    { type: "button", class: "link-button sheet-change-address", "aria-expanded": "false" },
    preferred ? t("change") : t("add_an_address_2"),
  );
  toggle.addEventListener("click", () => {
    box.hidden = !box.hidden;
    toggle.setAttribute("aria-expanded", String(!box.hidden));
    if (!box.hidden && !preferred && select.value !== "new") {
      select.value = "new";
      select.dispatchEvent(new Event("change"));
    }
  });
  slot.append(" ", toggle, box);
  slot.hidden = false;
}

const region = document.querySelector('[data-region="product"]');
if (region) {
  markAll(region);
  new MutationObserver(() => markAll(region)).observe(region, { childList: true, subtree: true });
  region.addEventListener("click", (event) => {
    const button = event.target.closest(".buy-btn");
    const card = button && button.closest(".live-product[data-product-id]");
    // A signed-out viewer's "Log in to buy" is a link away: no sheet to fill.
    if (card && button.tagName === "BUTTON") fillSheet(card.dataset.productId);
  });
}
