// The viewer's standing in the room's drop: what their tap got and what to do next.
//
// A tap on a claim-based drop (hold then pay, queue, lottery) goes over the room's socket
// ({"type":"claim"} → {"type":"claim_result"}, the cheap path) or, without an open socket,
// POST /api/v1/live/deals/{id}/claim. The answer is the claim ("yours — pay within 4:59"), a
// place in line (its position follows the room's stock events: served_through), a lottery
// entry, or a refusal (sold out, over the limit). GET …/mine says the same after a reload or
// when the line reaches the viewer. First-paid-wins drops have no claims: the card's Buy opens
// the sheet, which pays at once.
import { t, tn } from "../i18n.js";
import { csrfToken, el } from "./format.js";

const POLICY = {
  hold_then_pay: {
    name: t("hold_then_pay"),
    line: (d) => tn("hold_minutes", Math.round(d.hold_seconds / 60)),
    tap: t("tap_to_claim"),
  },
  first_paid_wins: {
    name: t("first_paid_wins"),
    line: () => t("no_holds_the_first_buyers_to_pay_get_it"),
    tap: t("buy"),
  },
  queue: {
    name: t("queue"),
    line: () => t("sold_out_join_the_line_unpaid_units_go_t"),
    tap: t("tap_to_claim"),
  },
  lottery: {
    name: t("lottery"),
    line: () => t("enter_before_the_draw_winners_are_picked"),
    tap: t("enter_the_draw"),
  },
};

export function policyOf(deal) {
  return POLICY[deal && deal.policy] || POLICY.hold_then_pay;
}

export function claimBased(deal) {
  return !!deal && deal.policy !== "first_paid_wins";
}

function mmss(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function problemCode(answer) {
  if (answer && answer.error) return answer.error.code || "";
  return answer && typeof answer.type === "string" ? answer.type.split("/").pop() : "";
}

export class Drop {
  constructor({ data, socket, onChange, onPay }) {
    this.data = data;
    this.socket = socket;
    this.onChange = onChange;
    this.onPay = onPay;
    this.dealId = null;
    this.standing = null; // {phase, claim, ticket, position, message}
    this.pending = new Map(); // ref -> resolve, for taps sent over the socket
    this.refs = 0;
    this.servedThrough = 0;
  }

  // The deal on screen changed (or the page opened): forget the old drop, ask for ours.
  follow(deal) {
    const id = deal ? deal.deal_id : null;
    if (id === this.dealId) return;
    this.dealId = id;
    this.standing = null;
    this.servedThrough = deal ? deal.served_through || 0 : 0;
    if (id !== null && claimBased(deal) && this.data.user && this.data.user.can_buy) this.reload();
  }

  key() {
    const s = this.standing;
    return s ? [s.phase, s.claim && s.claim.claim_id, s.ticket, s.position, s.message] : null;
  }

  async reload() {
    const id = this.dealId;
    try {
      const resp = await fetch(`/api/v1/live/deals/${id}/mine`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!resp.ok || id !== this.dealId) return;
      this.fromMine(await resp.json());
    } catch {
      /* offline: the socket's reconnect brings the next try */
    }
  }

  fromMine(mine) {
    const held = mine.claims.find((c) => c.status === "held" && c.pay_within_s > 0);
    const entry = mine.entry;
    if (held) {
      this.standing = { phase: "held", claim: { ...held, until: Date.now() + held.pay_within_s * 1000 } };
    } else if (entry && entry.status === "waiting") {
      const phase = mine.policy === "lottery" && entry.rank === null ? "entered" : "queued";
      this.standing = { phase, ticket: entry.ticket, position: entry.position };
    } else if (mine.claims.some((c) => c.status === "ordered")) {
      this.standing = { phase: "ordered" };
    } else if (entry && entry.status !== "waiting" && mine.policy === "lottery") {
      this.standing = { phase: "lost", message: t("not_this_time_the_draw_picked_others") };
    } else {
      this.standing = null;
    }
    this.onChange();
  }

  // A stock event of our deal: the line moved (queue, drawn lottery).
  onStock(ev) {
    if (ev.deal_id !== this.dealId || typeof ev.served_through !== "number") return;
    const moved = ev.served_through > this.servedThrough;
    this.servedThrough = Math.max(this.servedThrough, ev.served_through);
    const s = this.standing;
    if (!s || !moved) return;
    if (s.phase === "entered" || (s.phase === "queued" && s.ticket !== undefined)) this.reload();
  }

  onDirect(frame) {
    if (frame.type !== "claim_result" && frame.type !== "pay_result") return;
    const resolve = this.pending.get(frame.ref);
    if (resolve) {
      this.pending.delete(frame.ref);
      resolve(frame);
    }
  }

  // A tap that gets units opens the pay sheet at once: tap, then pay — two taps to buy.
  async tap(deal, product) {
    if (!deal || (this.standing && this.standing.phase === "tapping")) return;
    this.standing = { phase: "tapping" };
    this.onChange();
    let answer = await this.viaSocket(deal);
    if (!answer) answer = await this.viaHttp(deal);
    this.apply(deal, answer);
    const s = this.standing;
    if (s && s.phase === "held" && product) this.onPay(product, deal, s.claim);
  }

  // Send a frame with a fresh ``ref`` and wait for the answer carrying it (claim_result,
  // pay_result: ``onDirect``); null when the socket is closed or stays silent ``ms`` long —
  // the caller then asks over HTTP.
  ask(prefix, frame, ms) {
    const ref = `${prefix}${++this.refs}`;
    return new Promise((resolve) => {
      if (!this.socket.send({ ...frame, ref })) {
        resolve(null);
        return;
      }
      this.pending.set(ref, resolve);
      setTimeout(() => {
        if (this.pending.delete(ref)) resolve(null);
      }, ms);
    });
  }

  viaSocket(deal) {
    return this.ask("t", { type: "claim", deal_id: deal.deal_id, quantity: 1 }, 4000);
  }

  // A product on show without a deal, claimed over the room socket ({"type": "claim",
  // "sku_id"} → {"type": "claim_result"}): the claim, a refusal, or null (closed or silent).
  claimShelfViaSocket(skuId, quantity) {
    return this.ask("s", { type: "claim", sku_id: skuId, quantity }, 4000);
  }

  // One tap to pay a held claim with the default saved card, over the room socket ({"type":
  // "pay"} → {"type": "pay_result"}: paid in the node's batch with the drop's other winners).
  // null when the socket is closed or silent: the sheet pays over HTTP instead (the same claim:
  // the server answers the same order, never a second charge).
  payViaSocket(claim, expectedTotal) {
    const kind = claim.kind === "shelf" ? "shelf" : "deal";
    return this.ask("p", { type: "pay", claim_id: claim.claim_id, kind, expected_total_minor: expectedTotal }, 8000);
  }

  async viaHttp(deal) {
    try {
      const resp = await fetch(`/api/v1/live/deals/${deal.deal_id}/claim`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ quantity: 1 }),
      });
      if (resp.status === 401) {
        location.href = this.data.login_url;
        return null;
      }
      return await resp.json().catch(() => ({}));
    } catch {
      return { error: { code: "offline", detail: t("no_connection_nothing_was_claimed_tap_ag") } };
    }
  }

  apply(deal, answer) {
    if (!answer) {
      this.standing = null;
      this.onChange();
      return;
    }
    const code = problemCode(answer);
    if (answer.status === "held") {
      this.standing = { phase: "held", claim: { ...answer, until: Date.now() + answer.pay_within_s * 1000 } };
    } else if (answer.status === "queued") {
      this.standing = { phase: "queued", ticket: answer.ticket, position: answer.position };
    } else if (answer.status === "entered") {
      this.standing = { phase: "entered", ticket: answer.ticket };
    } else if (code === "deal-sold-out") {
      this.standing = { phase: "refused", message: t("sold_out_every_unit_is_taken") };
    } else if (code === "deal-limit-reached") {
      const limit = answer.error && answer.error.per_buyer_limit ? t("per_buyer", { per_buyer_limit: answer.error.per_buyer_limit }) : t("of_this_product_per_buyer", { per_product_limit: deal.per_product_limit });
      this.standing = { phase: "refused", message: t("you_ve_reached_the_limit_of", { limit }) };
    } else {
      const detail = (answer.error && answer.error.detail) || answer.detail;
      this.standing = { phase: "refused", message: detail || t("that_didn_t_work_tap_again") };
    }
    this.onChange();
  }

  // The deal ended: a place in line or an entry not reached will not be.
  ended(dealId, reason) {
    const s = this.standing;
    if (dealId !== this.dealId || !s || !["queued", "entered", "tapping"].includes(s.phase)) return;
    const message = reason === "sold_out" ? t("sold_out_every_unit_was_paid_for") : t("the_drop_has_ended");
    this.standing = { phase: "refused", message };
    this.onChange();
  }

  paid() {
    this.standing = { phase: "ordered" };
    this.onChange();
  }

  // The lines under the price: the policy (with a link explaining it) and where we stand.
  lines(deal) {
    const policy = policyOf(deal);
    const out = [
      el(
        "p",
        { class: "deal-policy" },
        el("strong", { text: policy.name }),
        ` · ${policy.line(deal)} `,
        el("a", { href: `/drops/fairness#${deal.policy}`, text: t("how") }),
      ),
    ];
    if (deal.policy === "first_paid_wins" && deal.paying) {
      out.push(el("p", { class: "deal-standing", text: t("paying_now", { paying: deal.paying }) }));
    }
    if (deal.policy === "lottery" && deal.seed_sha256 && !deal.seed) {
      out.push(
        el("p", { class: "deal-seed" }, t("seed_hash"), el("a", { href: `/drops/${deal.deal_id}/lottery`, text: deal.seed_sha256.slice(0, 12) + "…" })),
      );
    }
    const s = this.dealId === deal.deal_id ? this.standing : null;
    if (!s) return out;
    const text = {
      tapping: t("claiming"),
      held: s.claim ? t("yours_pay_within", { mmss: mmss(s.claim.until - Date.now()) }) : "",
      queued: s.position ? t("you_re_in_line", { position: s.position }) : t("you_re_in_line_2"),
      entered: t("you_re_in_the_draw_entry", { ticket: s.ticket, date: deal.draw_at ? t("draw_at", { date: new Date(deal.draw_at).toLocaleTimeString(this.data.money.locale, { hour: "2-digit", minute: "2-digit" }) }) : "" }),
      ordered: t("yours_order_placed"),
      refused: s.message,
      lost: s.message,
    }[s.phase];
    const node = el("p", { class: `deal-standing is-${s.phase}`, text: text || "" });
    if (s.phase === "held" && s.claim) node.dataset.payUntil = String(s.claim.until);
    out.push(node);
    return out;
  }

  // The card's button for a claim-based drop.
  action(deal, product) {
    const policy = policyOf(deal);
    const s = this.dealId === deal.deal_id ? this.standing : null;
    const button = (text, onclick, disabled = false) =>
      el("button", { class: "btn btn-primary buy-btn", type: "button", text, disabled, onclick });
    if (s && s.phase === "held") return button(t("pay_now"), () => this.onPay(product, deal, s.claim));
    if (s && s.phase === "tapping") return button(t("claiming"), null, true);
    if (s && (s.phase === "queued" || s.phase === "entered")) return button(s.phase === "queued" ? t("in_line") : t("entered"), null, true);
    return button(policy.tap, () => this.tap(deal, product));
  }

  // Every second: the "pay within" countdown; a hold that ran out is forgotten.
  tick() {
    const node = document.querySelector(".deal-standing[data-pay-until]");
    if (!node) return;
    const left = Number(node.dataset.payUntil) - Date.now();
    if (left <= 0) {
      this.standing = { phase: "refused", message: t("your_hold_ran_out_the_units_went_back_to") };
      this.onChange();
      return;
    }
    node.textContent = t("yours_pay_within", { mmss: mmss(left) });
  }
}
