// The shoppable replay: the show's product timeline (GET /api/v1/video/{id}/timeline) as
// chips under the player — each at the moment the product went on screen; tapping one jumps
// there — and the product card follows playback (the product on screen at currentTime).
// Replays sell at the normal price: the timeline carries no deal prices.

import { t } from "../i18n.js";
import { el } from "./format.js";

function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export class ReplayTimeline {
  constructor(region, { api, video, onProduct }) {
    this.region = region;
    this.api = api;
    this.video = video; // RoomVideo
    this.onProduct = onProduct; // (product summary | null) => void
    this.marks = []; // [{offset_ms, product_id | null}] in order: what is on screen from then
    this.products = new Map();
    this.current = undefined;
  }

  async load() {
    let body;
    try {
      const resp = await fetch(this.api, { headers: { Accept: "application/json" } });
      if (!resp.ok) return;
      body = await resp.json();
    } catch {
      return;
    }
    for (const p of body.products || []) this.products.set(p.product_id, p);
    for (const e of body.entries || []) {
      if (e.kind === "pin" && this.products.has(e.product_id)) {
        this.marks.push({ offset_ms: e.offset_ms, product_id: e.product_id });
      } else if (e.kind === "unpin") {
        this.marks.push({ offset_ms: e.offset_ms, product_id: null });
      }
    }
    const chips = this.marks.filter((m) => m.product_id !== null);
    if (!chips.length) return;
    const list = el("ol", { class: "replay-chips" });
    for (const mark of chips) {
      const product = this.products.get(mark.product_id);
      const chip = el(
        "button",
        {
          type: "button",
          class: "replay-chip",
          dataset: { offsetMs: String(mark.offset_ms), productId: String(mark.product_id) },
          "aria-label": t("watch_from", { clock: clock(mark.offset_ms), title: product.title }),
        },
        el("img", { src: product.image_url || "/static/img/placeholder.svg", alt: "", class: "decorative", width: "32", height: "32" }),
        el("span", { class: "chip-time", text: clock(mark.offset_ms) }),
        el("span", { class: "chip-title", text: product.title }),
      );
      chip.addEventListener("click", () => {
        this.video.seek(mark.offset_ms / 1000);
        this.show(mark.product_id);
      });
      list.append(el("li", {}, chip));
    }
    this.region.replaceChildren(el("h2", { class: "replay-title", text: t("shop_the_replay") }), list);
    this.region.hidden = false;
    this.video.video.addEventListener("timeupdate", () => this.follow(this.video.video.currentTime));
  }

  // The product on screen at `seconds` into the replay.
  follow(seconds) {
    const ms = seconds * 1000;
    let on = null;
    for (const m of this.marks) {
      if (m.offset_ms > ms) break;
      on = m.product_id;
    }
    this.show(on);
  }

  show(productId) {
    if (productId === this.current) return;
    this.current = productId;
    for (const chip of this.region.querySelectorAll(".replay-chip")) {
      const here = Number(chip.dataset.productId) === productId;
      if (here) chip.setAttribute("aria-current", "true");
      else chip.removeAttribute("aria-current");
    }
    this.onProduct(productId === null ? null : this.products.get(productId));
  }
}
