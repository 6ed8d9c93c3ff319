// The room's auction panel: the lot up, its price, who leads (public name), the timer, and
// the bid buttons. The server decides everything (its clock ends the lot; a bid in the last
// seconds of an anti-snipe lot resets the timer): this only shows what the room's events
// say, newest version first, and sends bids over HTTP. The timer runs on the server's
// clock: each event's `ts` (server time) against the browser's own gives the offset.
import { t, tn } from "../i18n.js";
import { countdownText, csrfToken, el } from "./format.js";

export class AuctionPanel {
  constructor(region, { data, money, user }) {
    this.region = region;
    this.data = data;
    this.money = money;
    this.user = user;
    this.lot = null;
    this.offset = 0; // server time − browser time (ms)
    this.note = "";
    this.busy = false;
    this.wonOrder = null;
  }

  clock() {
    return Date.now() + this.offset;
  }

  serverTime(ts) {
    if (typeof ts === "number") this.offset = ts - Date.now();
  }

  snapshot(lot) {
    this.lot = lot ? { ...lot } : null;
    this.render();
  }

  onEvent(ev) {
    this.serverTime(ev.ts);
    const fields = { ...ev };
    delete fields.type;
    delete fields.seq;
    delete fields.ts;
    if (ev.type === "auction_started") {
      this.lot = { ...ev.auction };
      this.note = "";
      this.wonOrder = null;
    } else if (!this.lot || this.lot.auction_id !== ev.auction_id) {
      if (ev.type !== "auction_ended") return;
      this.lot = fields;
    } else if ((ev.version ?? 0) >= (this.lot.version ?? 0)) {
      this.lot = { ...this.lot, ...fields };
    }
    if (ev.type === "auction_ended") this.note = ""; // what the last bid said is over
    if (ev.type === "auction_ended" && ev.status === "sold" && this.user && ev.winner_id === this.user.id) {
      this.findOrder(ev.auction_id);
    }
    this.render();
  }

  async findOrder(auctionId) {
    try {
      const resp = await fetch(`/api/v1/live/auctions/${auctionId}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (resp.ok) {
        const body = await resp.json();
        this.wonOrder = body.order_id;
        this.paymentDue = !!body.payment_due;
        this.render();
      }
    } catch {
      /* the inbox has it too */
    }
  }

  async bid(amount) {
    if (!this.lot || this.busy) return;
    this.busy = true;
    this.note = t("bidding");
    this.render();
    try {
      const resp = await fetch(`/api/v1/live/auctions/${this.lot.auction_id}/bids`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ max_minor: amount }),
      });
      const body = await resp.json();
      if (resp.ok) {
        this.note = body.leading ? t("you_re_winning_your_maximum", { amount: this.money(amount) }) : t("outbid_straight_away_by_someone_s_maximu");
        if ((body.current_minor ?? 0) > (this.lot.current_minor ?? 0)) this.lot.current_minor = body.current_minor;
        if (body.minimum_minor) this.lot.minimum_minor = Math.max(this.lot.minimum_minor || 0, body.minimum_minor);
      } else {
        const code = (body.type || "").split("/").pop();
        const words = {
          "saved-card-required": t("save_a_card_first_the_winner_is_charged"),
          "bid-too-low": t("too_low_the_least_bid_now_is", { amount: this.money(body.minimum_minor) }),
          "already-leading": t("you_re_already_winning"),
          "auction-ended": t("too_late_the_hammer_has_fallen"),
          "host-cannot-bid": t("hosts_can_t_bid_on_their_own_lots"),
        };
        this.note = words[code] || body.detail || t("that_bid_didn_t_go_through");
        if (body.minimum_minor) this.lot.minimum_minor = body.minimum_minor;
      }
    } catch {
      this.note = t("no_connection_your_bid_was_not_sent");
    } finally {
      this.busy = false;
      this.render();
    }
  }

  async withdraw() {
    if (!this.lot) return;
    const resp = await fetch(`/api/v1/live/auctions/${this.lot.auction_id}/cancel`, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
    });
    this.note = resp.ok ? t("withdrawn_its_units_are_back_on_sale") : t("the_lot_could_not_be_withdrawn");
    this.render();
  }

  tick() {
    const node = this.region.querySelector(".auction-timer");
    if (!node || !this.lot || this.lot.status !== "live") return;
    const text = countdownText(Date.parse(this.lot.ends_at), this.clock());
    node.textContent = text || t("going_gone");
    node.classList.toggle("is-final", !!text && Date.parse(this.lot.ends_at) - this.clock() <= 5000);
  }

  render() {
    const lot = this.lot;
    this.region.hidden = !lot;
    if (!lot) return this.region.replaceChildren();
    const live = lot.status === "live";
    const mine = this.user && lot.leader_id === this.user.id;
    const price = lot.current_minor != null ? this.money(lot.current_minor) : this.money(lot.start_minor);
    const each = lot.quantity > 1 ? t("each", { quantity: lot.quantity }) : "";
    const head = el(
      "p",
      { class: "auction-kicker" },
      el("span", { class: "auction-badge", text: t("auction") }),
      " ",
      el("span", {
        class: "auction-mode",
        text: lot.mode === "sudden_death" ? t("sudden_death") : t("bids_in_the_last_s_reset_the_clock", { snipe_seconds: lot.snipe_seconds }),
      }),
    );
    const status = [];
    if (live) {
      status.push(el("span", { class: "auction-timer", role: "timer", text: countdownText(Date.parse(lot.ends_at), this.clock()) }));
    }
    let leader;
    if (lot.status === "sold") {
      const me = this.user && lot.winner_id === this.user.id;
      leader = el(
        "p",
        { class: `auction-leader${me ? " is-me" : ""}` },
        me ? t("you_won_yours_for", { amount: this.money(lot.hammer_minor), each }) : t("sold_to_for", { bidder: lot.winner_name || t("a_bidder"), amount: this.money(lot.hammer_minor), each }),
        me && this.wonOrder
          ? this.paymentDue
            ? el("a", { href: `/orders/${this.wonOrder}/pay`, class: "btn btn-primary auction-pay", text: t("finish_paying") })
            : el("a", { href: `/orders/${this.wonOrder}`, class: "auction-order", text: t("view_order_2") })
          : null,
      );
    } else if (lot.status === "settling") {
      leader = el("p", { class: "auction-leader", text: t("sold_charging", { winner: mine ? t("your_card") : lot.leader_name || t("the_winner") }) });
    } else if (lot.status === "unsold" || lot.status === "cancelled") {
      leader = el("p", { class: "auction-leader", text: lot.status === "unsold" ? t("no_sale") : t("lot_withdrawn") });
    } else if (lot.leader_id) {
      leader = el("p", { class: `auction-leader${mine ? " is-me" : ""}`, text: mine ? t("you_re_winning") : t("is_winning", { someone: lot.leader_name || t("someone") }) });
    } else {
      leader = el("p", { class: "auction-leader", text: t("no_bids_yet") });
    }
    let actions = null;
    if (live) {
      if (!this.user) {
        actions = el("a", { class: "btn btn-primary auction-bid", href: this.data.login_url, text: t("log_in_to_bid") });
      } else if (this.user.host) {
        actions = el("button", {
          type: "button",
          class: "btn btn-danger-ghost",
          text: t("withdraw_lot"),
          onclick: () => this.withdraw(),
        });
      } else {
        const next = lot.minimum_minor;
        const input = el("input", {
          type: "text",
          inputmode: "numeric",
          class: "auction-max",
          "aria-label": t("your_maximum_bid_in_minor_units"),
          placeholder: t("max_e_g_2500"),
        });
        actions = el(
          "div",
          { class: "auction-actions" },
          el("button", {
            type: "button",
            class: "btn btn-primary auction-bid",
            disabled: this.busy,
            text: t("bid", { amount: this.money(next) }),
            onclick: () => this.bid(next),
          }),
          el(
            "form",
            {
              class: "auction-max-form",
              onsubmit: (event) => {
                event.preventDefault();
                const value = Number.parseInt(input.value, 10);
                if (Number.isSafeInteger(value) && value > 0) this.bid(value);
              },
            },
            input,
            el("button", { type: "submit", class: "btn btn-ghost", disabled: this.busy, text: t("set_max") }),
          ),
        );
      }
    }
    this.region.replaceChildren(
      el(
        "article",
        { class: `auction-card is-${lot.status}`, dataset: { auctionId: lot.auction_id } },
        head,
        el("p", { class: "auction-title", text: lot.title || "" }),
        Array.isArray(lot.increments) && lot.increments.length
          ? el("p", {
              class: "auction-steps muted small",
              text: t("bid_steps", {
                steps: lot.increments.map(([from, step]) => t("step_from", { step: this.money(step), price: this.money(from) })).join(" · "),
              }),
            })
          : null,
        el(
          "p",
          { class: "auction-price" },
          el("span", { class: "price", text: price }),
          each ? el("span", { class: "muted", text: each }) : null,
          " ",
          el("span", { class: "auction-bids muted", text: tn("bids", lot.bids || 0) }),
          " ",
          ...status,
        ),
        leader,
        actions,
        this.note ? el("p", { class: "auction-note", role: "status", text: this.note }) : null,
      ),
    );
  }
}
