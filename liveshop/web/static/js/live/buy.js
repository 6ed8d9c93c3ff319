// The buy sheet: tap "Buy" → choose the variant (preselected when there is one) → pay with the
// sandbox card. One POST /api/v1/live/sessions/{id}/buy with a fresh Idempotency-Key per
// opening of the sheet (a double tap or a retry replays the same order, never a second one)
// and the X-CSRF-Token the API wants for cookie-authenticated writes.
//
// What the buyer is charged comes from the server, never from arithmetic here: the sheet asks
// POST …/quote (the checkout's own pricing, run dry: deal price, platform discount and
// free-shipping campaigns, shipping, tax) whenever the choice or the room's offer changes, shows
// the breakdown, and puts the quote's total on the Pay button. The buy sends that total as
// expected_total_minor, so the server refuses to charge anything else (409 price-changed: the
// sheet fetches the new price and the buyer taps again).
//
// A flash deal's sheet has a quantity: at most what the deal has left and, when the deal has a
// per-buyer limit, what this buyer may still buy (GET …/deal's remaining_for_you, asked at each
// opening; a 409 deal-limit-reached from the quote or the buy says it too). The server keeps the
// limit either way; the sheet only stops the buyer asking for more than they can have.
//
// How the buyer pays: with their default saved card when they have one ("Pay £x with Visa ••••
// 4242", one tap: use_default_card), with a link to change it on the account page; else with the
// sandbox's test card, and a "save this card" box that saves it first (POST /api/v1/me/cards)
// and pays with the saved card (saved_card_id), so the next buy is one tap. The sheet asks the
// API for the buyer's cards each time it opens (a card added or removed in another tab shows).
//
// While the show is live, a product without a deal is bought in two steps behind the one Pay
// tap: a claim (POST …/sessions/{id}/claim: the units are held for this buyer in the server's
// next batch, or "sold out" comes back at once), then the claim is paid (POST
// /api/v1/live/shelf-claims/{id}/pay). The claim is kept for the opening of the sheet, so a
// payment that failed is retried on the same held units, never a second claim.
//
// A coupon code typed in the sheet ("Apply") goes with every quote and with the buy or the
// claim's pay (coupon_code): the quote shows the shop's discount before paying, and the checkout
// prices it the same way. A code the server refuses (unknown, used up) is said under the field
// and dropped, so the sheet shows the price without it.
import { t } from "../i18n.js";
import { choiceLegend, csrfToken, el, variantLabel } from "./format.js";

const TEST_CARD = "4242424242424242";
const TEST_CARD_EXPIRY = { exp_month: 12, exp_year: new Date().getFullYear() + 3 };
const MAX_QUANTITY = 99; // what the room's buy endpoint takes in one tap

// The problem type's last segment ("deal-sold-out"): problem+json carries no "code" field.
function problemCode(answer) {
  return typeof answer.type === "string" ? answer.type.split("/").pop() : "";
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16)); // plain http on a LAN: no randomUUID
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function jsonHeaders() {
  return {
    "Content-Type": "application/json",
    Accept: "application/json",
    "X-CSRF-Token": csrfToken(),
  };
}

export class BuySheet {
  constructor(dialog, { data, money, onPaid, onSoldOut, payViaSocket, claimViaSocket }) {
    this.dialog = dialog;
    this.data = data;
    this.money = money;
    this.onPaid = onPaid;
    this.onSoldOut = onSoldOut;
    this.payViaSocket = payViaSocket; // (claim, expected total) → pay_result frame, or null
    this.claimViaSocket = claimViaSocket; // (sku id, quantity) → claim_result frame, or null
    this.q = (name) => dialog.querySelector(`[data-sheet=${name}]`);
    this.pay = this.q("pay");
    this.variants = this.q("variants");
    this.qty = this.q("qty");
    this.remaining = null; // what this buyer may still buy of a limited deal, once known
    this.product = null;
    this.deal = null;
    this.claim = null; // paying a drop's claim: its units are held, its quantity fixed
    this.shelfClaim = null; // this opening's claim on a product without a deal, once made
    this.key = null;
    this.busy = false;
    this.quote = null; // the server's price for the current choice, or null while asking
    this.quoteFor = null; // the request the quote answers (sku and deal)
    this.quoteError = "";
    this.quoteSeq = 0; // answers to older requests are dropped
    this.coupon = ""; // the coupon code applied in this sheet, upper-cased
    this.couponInput = this.q("coupon");
    this.q("coupon-apply").addEventListener("click", () => this.applyCoupon());
    this.couponInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.applyCoupon();
      }
    });
    this.card = (data.user && data.user.card) || null; // the default saved card: { id, label }
    this.saveCard = this.q("save-card");
    if (data.user && data.user.cards_url) this.q("card-link").href = data.user.cards_url;
    this.pay.addEventListener("click", () => this.submit());
    this.variants.addEventListener("change", () => this.requote());
    this.qty.addEventListener("change", () => {
      this.qty.value = String(this.quantity());
      this.requote();
    });
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close(); // a tap on the backdrop
    });
  }

  get productId() {
    return this.dialog.open && this.product ? this.product.product_id : null;
  }

  skus() {
    if (!this.deal) return this.product.skus || [];
    const sku = (this.product.skus || []).find((s) => s.sku_id === this.deal.sku_id);
    return [{ ...(sku || { attributes: {} }), sku_id: this.deal.sku_id, price_minor: this.deal.price_minor, available: this.claim ? this.claim.quantity : this.deal.available }];
  }

  // Pay for a claim the buyer's tap made (live/drop.js): the held units at the deal price.
  openClaim(product, deal, claim) {
    this.open(product, deal, claim);
  }

  claimUrl(what) {
    return `/api/v1/live/claims/${this.claim.claim_id}/${what}`;
  }

  // Hold the chosen units for this buyer (a product without a deal, while live): the claim,
  // or null with the reason shown (sold out: the option is marked so).
  // ``viaSocket``: ask over the room socket first (HTTP when it is closed or silent).
  async claimShelf(sku, viaSocket = false) {
    const want = { sku_id: sku.sku_id, quantity: this.quantity() };
    const mine = this.shelfClaim;
    if (mine && mine.sku_id === want.sku_id && mine.quantity === want.quantity) return mine;
    const answered = viaSocket && this.claimViaSocket ? await this.claimViaSocket(want.sku_id, want.quantity) : null;
    if (answered && !answered.error) {
      this.shelfClaim = answered;
      return answered;
    }
    if (answered) {
      const code = answered.error.code;
      if (code === "sign-in-required" || code === "invalid-token") {
        location.href = this.data.login_url;
      } else if (code === "sold-out") {
        sku.available = 0;
        this.error(t("sold_out_every_unit_is_taken_units_not_p"));
      } else {
        this.error(answered.error.detail || t("that_didn_t_work_please_try_again"));
      }
      return null;
    }
    const resp = await fetch(this.data.claim_api, {
      method: "POST",
      credentials: "same-origin",
      headers: jsonHeaders(),
      body: JSON.stringify(want),
    });
    const answer = await resp.json().catch(() => ({}));
    if (resp.ok) {
      this.shelfClaim = answer;
      return answer;
    }
    if (resp.status === 401) {
      location.href = this.data.login_url;
      return null;
    }
    if (problemCode(answer) === "sold-out") {
      sku.available = 0;
      this.error(t("sold_out_every_unit_is_taken_units_not_p"));
    } else {
      this.error(answer.detail || t("that_didn_t_work_please_try_again"));
    }
    return null;
  }

  open(product, deal, claim = null) {
    this.product = product;
    this.deal = deal || null;
    this.claim = claim;
    this.shelfClaim = null;
    this.remaining = null;
    this.coupon = "";
    this.couponInput.value = "";
    this.couponNote("");
    this.qty.value = String(claim ? claim.quantity : 1);
    this.q("qty-row").hidden = !this.deal || !!claim;
    this.key = newKey(); // one order per opening of the sheet, however often Pay is tapped
    this.busy = false;
    this.error("");
    this.q("kicker").textContent = claim ? t("yours_held_for_you") : deal ? t("flash_deal") : "";
    this.q("title").textContent = product.title;
    const img = this.dialog.querySelector(".sheet-img");
    img.src = product.image_url || "/static/img/placeholder.svg";
    const skus = this.skus();
    const open = skus.filter((s) => s.available !== 0);
    this.q("legend").textContent = deal ? t("deal_option") : t("choose", { choice_legend: choiceLegend(skus) });
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
          text: sku.available === 0 ? t("sold_out") : this.deal ? this.money(sku.price_minor) : sku.price_display || this.money(sku.price_minor),
        }),
      ),
    );
    this.variants.querySelectorAll("label").forEach((n) => n.remove());
    this.variants.append(...radios);
    this.variants.hidden = skus.length === 1 && !Object.keys(skus[0].attributes || {}).length;
    if (!this.data.user || !this.data.user.can_buy) {
      this.error(t("buying_needs_a_buyer_account_log_in_as_a"));
    }
    this.saveCard.checked = false;
    if (this.data.user && this.data.user.can_buy && this.data.user.cards_api) this.fetchCard();
    if (this.deal && this.deal.per_buyer_limit && !claim) {
      // What is left of the limit first: a buyer at their limit is not quoted (nor refused).
      this.update();
      this.fetchAllowance(this.deal.deal_id).then(() => this.requote());
    } else {
      this.requote();
    }
    if (!this.dialog.open) this.dialog.showModal();
  }

  // The room changed under the open sheet (a flash deal started or ended, the pin moved):
  // show the product's offer as it is now, and ask for its price again.
  follow(product, deal) {
    if (!this.dialog.open || this.busy || this.claim) return; // a claim's price is the deal's
    const before = this.deal ? this.deal.deal_id : null;
    const now = deal ? deal.deal_id : null;
    if (before === now) {
      if (product && !this.deal) this.product = product;
      this.requote();
      return;
    }
    const current = product || this.product;
    if (!deal && !(current.skus || []).length) {
      this.dialog.close(); // the deal was all this card offered; the card says it ended
      return;
    }
    this.open(current, deal);
    this.error(deal ? t("a_flash_deal_just_started_this_is_its_pr") : t("the_flash_deal_has_ended_this_is_the_reg"));
  }

  chosen() {
    const input = this.variants.querySelector("input:checked");
    if (!input) return null;
    return this.skus().find((s) => String(s.sku_id) === input.value) || null;
  }

  // The most this buyer can ask for now: 1 without a deal; else what the deal has left, capped
  // by the per-buyer limit (what is left of it, once known). 0: nothing can be bought.
  maxQuantity() {
    if (this.claim) return this.claim.quantity;
    if (!this.deal) return 1;
    let most = Math.min(MAX_QUANTITY, this.deal.available ?? MAX_QUANTITY);
    if (this.deal.per_buyer_limit) most = Math.min(most, this.remaining ?? this.deal.per_buyer_limit);
    return Math.max(0, most);
  }

  quantity() {
    const wanted = Number.parseInt(this.qty.value, 10);
    const most = Math.max(1, this.maxQuantity());
    return Number.isFinite(wanted) ? Math.min(Math.max(wanted, 1), most) : 1;
  }

  limitReached() {
    return !this.claim && !!(this.deal && this.deal.per_buyer_limit && this.remaining === 0);
  }

  // What this buyer may still buy of the open limited deal (the API reads the database).
  async fetchAllowance(dealId) {
    try {
      const resp = await fetch(this.data.deal_api, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const deal = resp.ok ? await resp.json() : null;
      if (!deal || !this.deal || deal.deal_id !== dealId || this.deal.deal_id !== dealId) return;
      if (deal.remaining_for_you === null || deal.remaining_for_you === undefined) return;
      this.allow(deal.remaining_for_you);
    } catch {
      /* offline: the quote and the buy still refuse more than the limit */
    }
  }

  // The buyer's default saved card now (one that has not expired), or none.
  async fetchCard() {
    try {
      const resp = await fetch(this.data.user.cards_api, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!resp.ok) return;
      const cards = await resp.json();
      const found = cards.find((c) => c.is_default && !c.expired);
      if (this.busy) return; // a payment already chose its card
      this.card = found ? { id: found.id, label: found.label } : null;
      this.update();
    } catch {
      /* offline: the card the page came with stands */
    }
  }

  // The buyer may buy `remaining` more: the quantity follows.
  allow(remaining) {
    this.remaining = remaining;
    this.qty.value = String(this.quantity());
  }

  request(sku) {
    const body = { sku_id: sku.sku_id, quantity: this.quantity() };
    if (this.deal) body.deal_id = this.deal.deal_id;
    if (this.coupon) body.coupon_code = this.coupon;
    return body;
  }

  // The typed code, applied: every quote and the payment carry it from now on.
  applyCoupon() {
    if (this.busy) return;
    const code = this.couponInput.value.trim().toUpperCase();
    this.couponInput.value = code;
    this.coupon = code;
    this.couponNote(code ? t("checking_the_coupon") : "");
    this.requote();
  }

  couponNote(text) {
    const node = this.q("coupon-note");
    node.textContent = text;
    node.hidden = !text;
  }

  // The quote for what is chosen now, if it has arrived.
  currentQuote() {
    const sku = this.chosen();
    if (!sku || !this.quote || !this.quoteFor) return null;
    const want = this.request(sku);
    const same = ["sku_id", "deal_id", "quantity", "coupon_code"].every((k) => this.quoteFor[k] === want[k]);
    return same ? this.quote : null;
  }

  async requote() {
    if (this.limitReached()) {
      this.quoteSeq++; // an answer still on its way is not wanted
      this.quote = null;
      this.quoteError = "";
      this.update();
      return;
    }
    const sku = this.chosen();
    const seq = ++this.quoteSeq;
    this.quote = null;
    this.quoteFor = null;
    this.quoteError = "";
    this.update();
    if (!sku) return;
    const body = this.request(sku);
    // A held claim's quote knows its units and price: it is sent only the coupon.
    const sent = this.claim ? (this.coupon ? { coupon_code: this.coupon } : {}) : body;
    try {
      const resp = await fetch(this.claim ? this.claimUrl("quote") : this.data.quote_api, {
        method: "POST",
        credentials: "same-origin",
        headers: jsonHeaders(),
        body: JSON.stringify(sent),
      });
      const answer = await resp.json().catch(() => ({}));
      if (seq !== this.quoteSeq) return; // the choice changed meanwhile
      const refused = problemCode(answer);
      if (!resp.ok && body.coupon_code && (refused === "unknown-coupon" || refused === "coupon-used-up")) {
        this.coupon = ""; // priced without it; the buyer sees why
        this.couponNote(answer.detail || t("this_coupon_cannot_be_used_here"));
        this.requote();
        return;
      }
      if (resp.ok) {
        this.quote = answer;
        this.quoteFor = body;
        if (body.coupon_code) {
          this.couponNote(
            answer.coupon_minor > 0
              ? t("off", { coupon_code: body.coupon_code, coupon: answer.display.coupon })
              : t("gives_no_discount_on_this", { coupon_code: body.coupon_code }),
          );
        }
      } else {
        this.quoteError = answer.detail || t("the_price_could_not_be_worked_out_please");
        const code = problemCode(answer);
        if (code === "deal-sold-out" && this.deal) this.soldOut();
        if (code === "deal-limit-reached" && this.deal && Number.isInteger(answer.remaining)) {
          this.allow(answer.remaining);
          if (answer.remaining > 0 && body.quantity > answer.remaining) {
            this.requote(); // ask again for what the buyer may still have
            return;
          }
        }
      }
    } catch {
      if (seq !== this.quoteSeq) return;
      this.quoteError = t("no_connection_the_price_could_not_be_che");
    }
    this.update();
  }

  update() {
    const sku = this.chosen();
    const allowed = !!(this.data.user && this.data.user.can_buy);
    const soldOut = !this.claim && this.deal && this.deal.available === 0;
    const limited = this.limitReached();
    this.renderQuantity();
    const low = Math.min(...this.skus().map((s) => s.price_minor));
    this.q("price").textContent = this.money(sku ? sku.price_minor : low);
    const quote = this.currentQuote();
    this.renderQuote(quote);
    this.pay.disabled = !sku || !allowed || this.busy || soldOut || limited || !quote;
    this.renderCard(allowed);
    if (this.busy) return; // "Paying…" stays until the answer
    this.pay.textContent = soldOut
      ? t("sold_out")
      : limited
        ? t("you_have_bought_your_limit")
        : !sku
        ? t("choose_an_option_to_pay")
        : quote
          ? t("pay_with", { total: quote.display.total, card: this.card ? this.card.label : t("test_card_4242") })
          : this.quoteError
            ? t("price_unavailable")
            : t("checking_the_price");
  }

  // Which card pays: the default saved card, or the test card (and the box to save it).
  renderCard(allowed) {
    const row = this.q("card-row");
    row.hidden = !allowed;
    const link = this.q("card-link");
    this.q("card-text").textContent = this.card ? t("paying_with", { label: this.card.label }) : "";
    this.q("save-row").hidden = !!this.card;
    link.textContent = this.card ? t("change_card") : t("add_a_card");
    this.saveCard.disabled = this.busy;
    this.q("foot").textContent = this.card
      ? t("test_mode_your_saved_sandbox_card_is_cha")
      : t("test_mode_the_sandbox_card_4242_4242_424");
  }

  // Save the test card with the provider (POST /api/v1/me/cards): the saved card, or null and
  // the reason shown.
  async saveTestCard() {
    try {
      const resp = await fetch(this.data.user.cards_api, {
        method: "POST",
        credentials: "same-origin",
        headers: jsonHeaders(),
        body: JSON.stringify({ card_number: TEST_CARD, ...TEST_CARD_EXPIRY }),
      });
      const answer = await resp.json().catch(() => ({}));
      if (resp.ok) return answer;
      this.error(answer.detail ? t("the_card_was_not_saved", { detail: answer.detail }) : t("the_card_was_not_saved_please_try_again"));
    } catch {
      this.error(t("no_connection_the_card_was_not_saved_and"));
    }
    return null;
  }

  // The quantity stepper (deals only) and what the per-buyer limit leaves this buyer.
  renderQuantity() {
    const most = this.maxQuantity();
    this.qty.max = String(Math.max(1, most));
    this.qty.disabled = most <= 1 || this.busy;
    const limit = this.deal ? this.deal.per_buyer_limit : null;
    let note = "";
    if (limit) {
      note = t("limit_per_buyer_2", { limit });
      if (this.remaining === 0) note += t("you_have_bought_your_limit_note");
      else if (this.remaining !== null) note += t("you_can_buy_more", { remaining: this.remaining });
    }
    const node = this.q("qty-note");
    node.textContent = note;
    node.hidden = !note;
  }

  // The breakdown, labelled as on the order page: items, platform discount, shipping and what
  // a free-shipping campaign pays of it, tax as the market shows it, total.
  renderQuote(quote) {
    const shipping = this.q("shipping");
    const list = this.q("breakdown");
    const note = this.q("quote-note");
    note.textContent = this.quoteError;
    note.hidden = !this.quoteError;
    if (!quote) {
      shipping.textContent = "";
      list.replaceChildren();
      list.hidden = true;
      list.setAttribute("aria-busy", this.quoteError ? "false" : "true");
      return;
    }
    const d = quote.display;
    const buyerShipping = quote.shipping_minor - quote.shipping_subsidy_minor;
    shipping.textContent = buyerShipping > 0 ? t("shipping", { amount: this.money(buyerShipping) }) : t("free_shipping");
    const row = (label, value, cls) => el("div", cls ? { class: cls } : {}, el("dt", { text: label }), el("dd", { text: value }));
    const rows = [
      row(t("items"), quote.coupon_minor ? d.items_before_coupon : d.items),
      quote.coupon_minor ? row(this.coupon ? t("coupon", { coupon: this.coupon }) : t("shop_discount"), `−${d.coupon}`) : null,
      quote.subsidy_minor ? row(t("platform_discount"), `−${d.subsidy}`) : null,
      row(t("shipping_2"), d.shipping),
      quote.shipping_subsidy_minor ? row(t("free_shipping_paid_by_liveshop"), `−${d.shipping_subsidy}`) : null,
      row(quote.prices_include_tax ? t("tax_included", { tax_name: quote.tax_name }) : quote.tax_name, d.tax),
      el("div", { class: "grand" }, el("dt", { text: t("total") }), el("dd", { class: "price", text: d.total })),
    ];
    list.replaceChildren(...rows.filter(Boolean)); // a null would show as the text "null"
    list.hidden = false;
    list.setAttribute("aria-busy", "false");
  }

  // Stock moved while the sheet is open: a deal that sold out can no longer be paid for.
  refresh(deal) {
    if (!this.dialog.open || this.claim || !this.deal || !deal || deal.deal_id !== this.deal.deal_id) return;
    this.deal = deal;
    this.update();
  }

  soldOut() {
    this.deal = { ...this.deal, available: 0 };
    this.onSoldOut(this.deal.deal_id);
  }

  error(text) {
    const node = this.q("error");
    node.textContent = text;
    node.hidden = !text;
  }

  async submit() {
    const sku = this.chosen();
    const quote = this.currentQuote();
    if (!sku || !quote || this.busy) return;
    this.busy = true;
    this.error("");
    this.pay.setAttribute("aria-busy", "true");
    this.pay.disabled = true;
    this.pay.textContent = t("paying");
    const claim = this.claim; // a held claim is paid as it is: its units, the deal's price
    const body = claim
      ? { expected_total_minor: quote.total_minor }
      : { ...this.request(sku), expected_total_minor: quote.total_minor };
    if (this.coupon) body.coupon_code = this.coupon; // priced as the quote showed it
    // The address chosen in the sheet (delivery.js); the server's default without one.
    const where = this.dialog.querySelector('[data-sheet="delivery"]');
    if (where && where.dataset.addressId) body.address_id = Number(where.dataset.addressId);
    const toDefault = !body.address_id || (where && where.dataset.addressDefault === "1");
    let requote = false;
    try {
      if (this.card) {
        body.use_default_card = true;
      } else if (this.saveCard.checked) {
        const saved = await this.saveTestCard();
        if (!saved) return;
        this.saveCard.checked = false;
        if (saved.is_default) this.card = { id: saved.id, label: saved.label };
        body.saved_card_id = saved.id;
      } else {
        body.card_number = TEST_CARD;
      }
      // The default card to the default address, no coupon: one tap over the room socket —
      // a held drop claim is paid there; a product on show is claimed there first. HTTP when
      // the socket is closed or silent (the same claim: the same order, never a second charge).
      const oneTap = Boolean(body.use_default_card && !body.coupon_code && toDefault && this.payViaSocket);
      let held = claim;
      if (!claim && !this.deal && this.data.claim_api) {
        held = await this.claimShelf(sku, oneTap);
        if (!held) return;
      }
      if (held && oneTap) {
        const answer = await this.payViaSocket(held, quote.total_minor);
        if (answer && !answer.error) {
          this.dialog.close();
          this.onPaid({ id: answer.order_id, status: answer.status, display_total: answer.display_total }, claim);
          return;
        }
        if (answer && answer.error) {
          const code = answer.error.code;
          if (code === "deal-sold-out" && this.deal) this.soldOut();
          requote = code === "price-changed";
          this.error(answer.error.detail || t("that_didn_t_work_please_try_again"));
          return;
        }
      }
      let url = claim ? this.claimUrl("pay") : this.data.buy_api;
      if (held && !claim) {
        url = `/api/v1/live/shelf-claims/${held.claim_id}/pay`;
        delete body.sku_id;
        delete body.quantity;
      }
      const resp = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { ...jsonHeaders(), "Idempotency-Key": this.key },
        body: JSON.stringify(body),
      });
      const answer = await resp.json().catch(() => ({}));
      if (resp.ok) {
        this.dialog.close();
        this.onPaid(answer, claim);
        return;
      }
      if (resp.status === 401) {
        location.href = this.data.login_url;
        return;
      }
      const code = problemCode(answer);
      if (code === "deal-sold-out" && this.deal) this.soldOut();
      if (code === "deal-limit-reached" && this.deal && Number.isInteger(answer.remaining)) {
        this.allow(answer.remaining);
        requote = answer.remaining > 0;
      }
      requote = requote || code === "price-changed";
      this.error(answer.detail || t("that_didn_t_work_please_try_again"));
    } catch {
      this.error(t("no_connection_nothing_was_charged_try_ag"));
    } finally {
      this.busy = false;
      this.pay.removeAttribute("aria-busy");
      if (this.dialog.open) {
        if (requote) this.requote();
        else this.update();
      }
    }
  }
}
