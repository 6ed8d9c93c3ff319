// The buy sheet: tap "Buy" → choose the variant (preselected when there is one) → pay with the
// sandbox card. One POST /api/v1/live/sessions/{id}/buy with a fresh Idempotency-Key per
// opening of the sheet (a double tap or a retry replays the same order, never a second one)
// and the X-CSRF-Token the API wants for cookie-authenticated writes.
import { choiceLegend, csrfToken, el, variantLabel } from "./format.js";

const TEST_CARD = "4242424242424242";

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16)); // plain http on a LAN: no randomUUID
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class BuySheet {
  constructor(dialog, { data, money, onPaid, onSoldOut }) {
    this.dialog = dialog;
    this.data = data;
    this.money = money;
    this.onPaid = onPaid;
    this.onSoldOut = onSoldOut;
    this.q = (name) => dialog.querySelector(`[data-sheet=${name}]`);
    this.pay = this.q("pay");
    this.variants = this.q("variants");
    this.product = null;
    this.deal = null;
    this.key = null;
    this.busy = false;
    this.pay.addEventListener("click", () => this.submit());
    this.variants.addEventListener("change", () => this.update());
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close(); // a tap on the backdrop
    });
  }

  skus() {
    if (!this.deal) return this.product.skus || [];
    const sku = (this.product.skus || []).find((s) => s.sku_id === this.deal.sku_id);
    return [{ ...(sku || { attributes: {} }), sku_id: this.deal.sku_id, price_minor: this.deal.price_minor, available: this.deal.available }];
  }

  open(product, deal) {
    this.product = product;
    this.deal = deal || null;
    this.key = newKey(); // one order per opening of the sheet, however often Pay is tapped
    this.busy = false;
    this.error("");
    this.q("kicker").textContent = deal ? "Flash deal" : "";
    this.q("title").textContent = product.title;
    const img = this.dialog.querySelector(".sheet-img");
    img.src = product.image_url || "/static/img/placeholder.svg";
    const skus = this.skus();
    const open = skus.filter((s) => s.available !== 0);
    this.q("legend").textContent = deal ? "Deal option" : `Choose ${choiceLegend(skus).toLowerCase()}`;
    const radios = skus.map((sku) =>
      el(
        "label",
        { class: `variant${sku.available === 0 ? " is-out" : ""}` },
        el("input", {
          type: "radio",
          name: "sku",
          value: sku.sku_id,
          disabled: sku.available === 0,
          checked: open.length === 1 && open[0].sku_id === sku.sku_id,
        }),
        el("span", { class: "variant-name", text: variantLabel(sku.attributes) }),
        el("span", {
          class: "variant-sub",
          text: sku.available === 0 ? "Sold out" : this.deal ? this.money(sku.price_minor) : sku.price_display || this.money(sku.price_minor),
        }),
      ),
    );
    this.variants.querySelectorAll("label").forEach((n) => n.remove());
    this.variants.append(...radios);
    this.variants.hidden = skus.length === 1 && !Object.keys(skus[0].attributes || {}).length;
    if (!this.data.user || !this.data.user.can_buy) {
      this.error("Buying needs a buyer account: log in as a buyer to buy here.");
    }
    this.update();
    if (!this.dialog.open) this.dialog.showModal();
  }

  chosen() {
    const input = this.variants.querySelector("input:checked");
    if (!input) return null;
    return this.skus().find((s) => String(s.sku_id) === input.value) || null;
  }

  update() {
    const sku = this.chosen();
    const allowed = !!(this.data.user && this.data.user.can_buy);
    const soldOut = this.deal && this.deal.available === 0;
    const low = Math.min(...this.skus().map((s) => s.price_minor));
    const price = sku ? sku.price_minor : low;
    this.q("price").textContent = this.money(price);
    this.pay.disabled = !sku || !allowed || this.busy || soldOut;
    const shipping = this.data.shipping_minor || 0; // the market's flat fee per order
    this.pay.textContent = soldOut
      ? "Sold out"
      : sku
        ? `Pay ${this.money(sku.price_minor + shipping)} with test card 4242…`
        : "Choose an option to pay";
    this.q("shipping").textContent = shipping ? `+ ${this.money(shipping)} shipping` : "Free shipping";
  }

  // Stock moved while the sheet is open: a deal that sold out can no longer be paid for.
  refresh(deal) {
    if (!this.dialog.open || !this.deal || !deal || deal.deal_id !== this.deal.deal_id) return;
    this.deal = deal;
    this.update();
  }

  error(text) {
    const node = this.q("error");
    node.textContent = text;
    node.hidden = !text;
  }

  async submit() {
    const sku = this.chosen();
    if (!sku || this.busy) return;
    this.busy = true;
    this.error("");
    this.pay.setAttribute("aria-busy", "true");
    this.pay.disabled = true;
    this.pay.textContent = "Paying…";
    const body = { sku_id: sku.sku_id, quantity: 1, card_number: TEST_CARD };
    if (this.deal) body.deal_id = this.deal.deal_id;
    try {
      const resp = await fetch(this.data.buy_api, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "Idempotency-Key": this.key,
          "X-CSRF-Token": csrfToken(),
        },
        body: JSON.stringify(body),
      });
      const answer = await resp.json().catch(() => ({}));
      if (resp.ok) {
        this.dialog.close();
        this.onPaid(answer);
        return;
      }
      if (resp.status === 401) {
        location.href = this.data.login_url;
        return;
      }
      if (answer.code === "deal-sold-out" && this.deal) {
        this.deal = { ...this.deal, available: 0 };
        this.onSoldOut(this.deal.deal_id);
      }
      this.error(answer.detail || "That didn't work. Please try again.");
    } catch {
      this.error("No connection — nothing was charged. Try again.");
    } finally {
      this.busy = false;
      this.pay.removeAttribute("aria-busy");
      if (this.dialog.open) this.update();
    }
  }
}
