// The viewer's live room: socket state → regions of the page (see templates/live/room.html).
import { t, tn } from "./i18n.js";
import { tickerText } from "./live/ticker.js";
import { AuctionPanel } from "./live/auction.js";
import { Chat } from "./live/chat.js";
import { BuySheet } from "./live/buy.js";
import { Drop, claimBased } from "./live/drop.js";
import { Engagement, isEngagement } from "./live/engage.js";
import { compactCount, countdownText, csrfToken, el, fillBars, moneyFormatter } from "./live/format.js";
import { Heartbeat } from "./live/heartbeat.js";
import { RoomSocket } from "./live/socket.js";
import { ReplayTimeline } from "./live/replay.js";
import { RoomVideo } from "./live/video.js";

const root = document.getElementById("room");
fillBars(root);
const data = JSON.parse(document.getElementById("room-data").textContent);
const $ = (region) => root.querySelector(`[data-region=${region}]`);
const money = moneyFormatter(data.money);
const user = data.user;

const SOLD_OUT_SHOWN_MS = 60_000; // a sold-out deal stays on screen (as sold out) this long
const ENDED_SHOWN_MS = 4_000; // an expired or stopped deal says so briefly
const RECONNECTING_AFTER_MS = 1_200; // no pill for a blip

const state = {
  status: data.status,
  pinned: data.pinned,
  deal: data.deal ? { ...data.deal, endsAt: Date.parse(data.deal.ends_at) } : null,
  dealEnded: null, // {deal, reason, until}: shown as sold out / ended for a moment
  endedDeals: new Set(),
  skuVersion: new Map(), // sku_id -> the newest shelf-batch version applied
  showcase: new Map(data.showcase.map((p) => [p.product_id, p])),
  viewers: 0,
  likes: Number($("likes").textContent) || 0,
};

// --- rendering -------------------------------------------------------------------------

function skusLeft(product) {
  const known = (product.skus || []).filter((s) => s.available !== null && s.available !== undefined);
  if (!product.skus || !product.skus.length || known.length < product.skus.length) return null;
  return known.reduce((n, s) => n + s.available, 0);
}

function priceText(product) {
  const prices = (product.skus || []).map((s) => s.price_minor);
  if (!prices.length) return product.price_minor != null ? money(product.price_minor) : "";
  const low = Math.min(...prices);
  const cheapest = product.skus.find((s) => s.price_minor === low);
  const text = cheapest.price_display || money(low);
  return prices.some((p) => p !== low) ? t("from_price", { text }) : text;
}

// --- the shelf in step with the picture -------------------------------------------------
// Room events say when the host made them (``ts``, the server's wall clock). The picture this
// viewer sees is older by their own delay: the player knows the wall-clock time of the frame
// on screen (EXT-X-PROGRAM-DATE-TIME). Pins and deals wait until the picture gets to the
// moment they were made, and countdowns count in picture time, so the card appears as the
// host holds the product up — whatever this viewer's delay. Buying is never held: the buy
// sheet asks the server, which answers at once.
const HOLD_MAX_MS = 20000; // never hold longer than this (a frozen or missing picture)
const HELD_TYPES = new Set(["pin", "deal_started", "deal_ended"]);
const held = [];

function pictureLagMs() {
  const at = video.live ? video.streamTimeMs() : null;
  return at === null ? 0 : Math.max(0, Math.min(HOLD_MAX_MS, Date.now() - at));
}

// "Now" as this viewer's picture shows it.
function pictureNow() {
  return Date.now() - pictureLagMs();
}

function holdForPicture(ev) {
  if (ev.released) return false;
  // Stock figures queue behind a held event (a deal's numbers after its start).
  if (held.length && (HELD_TYPES.has(ev.type) || ev.type === "stock")) {
    held.push(ev);
    return true;
  }
  if (!HELD_TYPES.has(ev.type) || !(ev.ts > pictureNow())) return false;
  held.push(ev);
  return true;
}

function releaseHeld() {
  const now = Date.now();
  const picture = pictureNow();
  while (held.length) {
    const ev = held[0];
    const due = ev.ts == null || ev.ts <= picture || now - ev.ts > HOLD_MAX_MS;
    if (!due) break;
    held.shift();
    ev.released = true;
    onEvent(ev);
  }
  root.dataset.pictureLagMs = String(Math.round(pictureLagMs()));
}

function shownDeal() {
  if (state.deal) return { deal: state.deal, ended: null };
  if (state.dealEnded && Date.now() < state.dealEnded.until) {
    return { deal: state.dealEnded.deal, ended: state.dealEnded.reason };
  }
  return null;
}

function productCard(product, shown, pinned) {
  const deal = shown ? shown.deal : null;
  const expired = deal && !shown.ended && deal.endsAt <= pictureNow();
  // A queue's line stays open when nothing is left: units not paid for go to the next in it.
  const lineOpen = deal && deal.policy === "queue" && !shown.ended && !expired;
  const soldOut = deal
    ? (deal.available === 0 && !lineOpen) || shown.ended === "sold_out"
    : skusLeft(product) === 0;
  const closed = deal && !soldOut && (shown.ended || expired);
  const classes = ["live-product", deal ? "has-deal" : "", soldOut ? "is-sold-out" : ""];
  const kicker = deal
    ? el(
        "p",
        { class: "lp-kicker deal-kicker" },
        el("span", { class: "deal-badge", text: t("flash_deal") }),
        " ",
        el("span", {
          class: "countdown",
          role: "timer",
          dataset: { endsAt: deal.ends_at, state: shown.ended ? "ended" : "" },
          text: shown.ended ? "" : countdownText(deal.endsAt, pictureNow()),
        }),
      )
    : pinned
      ? el("p", { class: "lp-kicker", text: t("pinned_by_the_host") })
      : null;
  let price;
  if (deal) {
    const off =
      deal.regular_price_minor > deal.price_minor
        ? Math.round(((deal.regular_price_minor - deal.price_minor) * 100) / deal.regular_price_minor)
        : 0;
    price = el(
      "p",
      { class: "lp-price" },
      el("span", { class: "price", text: money(deal.price_minor) }),
      " ",
      deal.regular_price_minor > deal.price_minor
        ? el("s", { class: "was", text: money(deal.regular_price_minor) })
        : null,
      off ? el("span", { class: "off", text: `−${off}%` }) : null,
    );
  } else {
    price = el("p", { class: "lp-price" }, el("span", { class: "price", text: priceText(product) }));
  }
  const stock = deal ? stockBar(deal, soldOut) : null;
  let action;
  if (soldOut || closed) {
    action = el("button", {
      class: "btn btn-primary buy-btn",
      type: "button",
      disabled: true,
      text: soldOut ? t("sold_out") : t("deal_ended"),
    });
  } else if (!user) {
    action = el("a", { class: "btn btn-primary buy-btn", href: data.login_url, text: t("log_in_to_buy") });
  } else if (claimBased(deal)) {
    action = drop.action(deal, product);
  } else {
    action = el("button", {
      class: "btn btn-primary buy-btn",
      type: "button",
      text: t("buy"),
      onclick: () => sheet.open(product, deal),
    });
  }
  return el(
    "article",
    {
      class: classes.filter(Boolean).join(" "),
      dataset: { productId: product.product_id, dealId: deal ? deal.deal_id : "" },
    },
    el("img", {
      class: "lp-img",
      src: product.image_url || "/static/img/placeholder.svg",
      alt: product.title,
      width: 64,
      height: 64,
    }),
    el(
      "div",
      { class: "lp-body" },
      kicker,
      el("p", { class: "lp-title", text: product.title }),
      price,
      stock,
      deal && deal.per_buyer_limit
        ? el("p", { class: "deal-limit", text: t("limit_per_buyer", { per_buyer_limit: deal.per_buyer_limit }) })
        : null,
      deal && deal.per_product_limit
        ? el("p", { class: "deal-limit", text: t("limit_of_this_product_per_buyer_in_this", { per_product_limit: deal.per_product_limit }) })
        : null,
      ...(deal ? drop.lines(deal) : []),
    ),
    action,
  );
}

function stockBar(deal, soldOut) {
  const left = soldOut ? 0 : deal.available;
  const pct = deal.units ? Math.round((left * 100) / deal.units) : 0;
  const bar = el("span", { style: `width: ${pct}%` });
  return el(
    "div",
    { class: `stock${pct <= 20 ? " is-low" : ""}` },
    el("div", { class: "stock-bar", "aria-hidden": "true" }, bar),
    el("span", {
      class: "stock-text",
      // A queue with nothing left is still open: what is not paid for goes down the line.
      text: soldOut ? t("sold_out_2") : left === 0 ? t("all_claimed_line_open") : t("of_left", { left, units: deal.units }),
    }),
  );
}

function cardModels() {
  const models = [];
  const shown = shownDeal();
  const dealProduct = shown ? shown.deal.product_id : null;
  if (state.pinned) {
    const own = dealProduct === state.pinned.product_id ? shown : null;
    models.push({ product: state.pinned, shown: own, pinned: true });
  }
  if (shown && (!state.pinned || dealProduct !== state.pinned.product_id)) {
    const product = state.showcase.get(dealProduct) || {
      product_id: dealProduct,
      title: t("flash_deal"),
      image_url: null,
      skus: [],
    };
    models.push({ product, shown, pinned: false });
  }
  return models;
}

let renderedKey = null;
function renderProducts() {
  const models = cardModels();
  const now = pictureNow();
  // Rebuild only when something a viewer can see changed (a stock event for another SKU,
  // or a snapshot that repeats what is on screen, leaves the cards alone).
  const key = JSON.stringify(
    models.map(({ product, shown, pinned }) => [
      product.product_id,
      product.title,
      (product.skus || []).map((s) => [s.sku_id, s.price_minor, s.available]),
      pinned,
      shown && [shown.deal.deal_id, shown.deal.available, shown.deal.price_minor, shown.ended, shown.deal.endsAt <= now, shown.deal.paying],
    ]).concat([drop.key()]),
  );
  if (key !== renderedKey) {
    renderedKey = key;
    const region = $("product");
    const before = new Map([...region.children].map((c) => [c.dataset.identity, c]));
    const cards = models.map(({ product, shown, pinned }) => {
      const card = productCard(product, shown, pinned);
      card.dataset.identity = `${product.product_id}:${card.dataset.dealId}`;
      const old = before.get(card.dataset.identity);
      if (old) {
        card.classList.add("is-update"); // the same card with new numbers: no entrance again
        const was = old.querySelector(".stock-bar span");
        const bar = card.querySelector(".stock-bar span");
        if (was && bar && was.style.width !== bar.style.width) {
          const width = bar.style.width;
          bar.style.width = was.style.width; // let the bar slide to its new length
          requestAnimationFrame(() => requestAnimationFrame(() => (bar.style.width = width)));
        }
      }
      return card;
    });
    region.replaceChildren(...cards);
  }
  for (const link of root.querySelectorAll(".side-list a")) {
    link.classList.toggle("is-pinned", !!state.pinned && link.dataset.productId == state.pinned.product_id);
  }
}

function tickCountdowns() {
  let expired = false;
  for (const node of root.querySelectorAll(".countdown[data-ends-at]")) {
    if (node.dataset.state === "ended") continue;
    const text = countdownText(Date.parse(node.dataset.endsAt), pictureNow());
    node.textContent = text ? t("ends_in", { text }) : t("ending");
    if (!text) expired = true;
  }
  drop.tick();
  auction.tick();
  engage.tick();
  if (state.dealEnded && Date.now() >= state.dealEnded.until) {
    state.dealEnded = null;
    renderProducts();
  } else if (expired && root.querySelector(".has-deal .buy-btn:not([disabled])")) {
    renderProducts();
  }
}

function renderStats() {
  const viewers = $("viewers");
  viewers.hidden = !(state.viewers > 0);
  viewers.querySelector(".count").textContent = compactCount(state.viewers, data.money.locale);
  viewers.setAttribute("aria-label", tn("watching", state.viewers));
  $("likes").textContent = compactCount(state.likes, data.money.locale);
  $("live-pill").hidden = state.status !== "live";
  // A page opened after the show already says so in the video panel; this is for the end
  // happening while you watch.
  $("ended").hidden = !["ended", "cancelled"].includes(state.status) || state.status === data.status;
  root.dataset.status = state.status;
  const form = $("chat-form");
  if (form) for (const c of form.elements) c.disabled = state.status !== "live" && state.status !== "scheduled";
}

// --- hearts, ticker, toast ---------------------------------------------------------------

const hearts = $("hearts");
function heart() {
  if (hearts.childElementCount > 24) return;
  const h = el("span", {
    class: "heart",
    style: `--x: ${Math.round(Math.random() * 40 - 20)}px; --hue: ${Math.round(Math.random() * 50) - 10}deg; --d: ${(1.6 + Math.random()).toFixed(2)}s`,
  });
  h.addEventListener("animationend", () => h.remove());
  setTimeout(() => h.remove(), 3000); // reduced motion: no animation, no animationend
  hearts.append(h);
}

let myLikes = 0; // sent since the last total arrived
let serverLikes = state.likes;
$("like").addEventListener("click", () => {
  heart();
  if (socket.send({ type: "like" })) {
    myLikes += 1;
    state.likes += 1;
    renderStats();
  }
});

const ticker = $("ticker");
const tickerQueue = [];
let tickerBusy = false;
function tick(text) {
  tickerQueue.push(text);
  if (tickerQueue.length > 5) tickerQueue.shift();
  if (!tickerBusy) nextTicker();
}
function nextTicker() {
  const text = tickerQueue.shift();
  if (text === undefined) {
    tickerBusy = false;
    ticker.hidden = true;
    return;
  }
  tickerBusy = true;
  ticker.hidden = false;
  const bag = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  bag.setAttribute("viewBox", "0 0 24 24");
  bag.setAttribute("aria-hidden", "true");
  bag.setAttribute("class", "ticker-icon");
  bag.innerHTML = '<path d="M5 8h14l-1.2 12H6.2z M9 8V6a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/>';
  ticker.replaceChildren(bag, text);
  ticker.classList.remove("is-new");
  void ticker.offsetWidth; // restart the entrance animation
  ticker.classList.add("is-new");
  setTimeout(nextTicker, 3500);
}

const toast = $("toast");
let toastTimer = null;
export function showToast(...content) {
  toast.replaceChildren(...content);
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (toast.hidden = true), 9000);
}

// --- events ------------------------------------------------------------------------------

function setDeal(deal) {
  if (!deal || state.endedDeals.has(deal.deal_id)) return;
  const known = state.deal && state.deal.deal_id === deal.deal_id ? state.deal : null;
  state.deal = { ...deal, endsAt: Date.parse(deal.ends_at) };
  // A snapshot or the API may be older than the stock events already applied.
  if (known && (known.version || 0) > (deal.version || 0)) {
    for (const k of ["available", "version", "paying", "waiting", "served_through"]) state.deal[k] = known[k];
  }
  state.dealEnded = null;
  drop.follow(state.deal);
}

function applyStock(ev) {
  if (ev.deal_id != null) {
    const deal = state.deal;
    // Figures of one deal come from several nodes: never go back to an older (higher) one.
    if (!deal || deal.deal_id !== ev.deal_id || (ev.version ?? 0) < (deal.version ?? 0)) return;
    deal.available = ev.available;
    for (const k of ["version", "paying", "waiting", "served_through"]) if (ev[k] != null) deal[k] = ev[k];
    drop.onStock(ev);
    return;
  }
  // A SKU's figures from shelf batches carry a version (any node's): keep the newest.
  if (ev.version != null) {
    if (ev.version < (state.skuVersion.get(ev.sku_id) ?? 0)) return;
    state.skuVersion.set(ev.sku_id, ev.version);
  }
  for (const product of [state.pinned, state.showcase.get(ev.product_id)]) {
    for (const sku of (product && product.skus) || []) {
      if (sku.sku_id === ev.sku_id) sku.available = ev.available;
    }
  }
}

function onEvent(ev) {
  if (ev.type.startsWith("auction_")) return auction.onEvent(ev);
  if (isEngagement(ev.type)) return engage.onEvent(ev);
  if (holdForPicture(ev)) return;
  switch (ev.type) {
    case "comment":
      // A line the filter held reaches a host's socket marked held (for the moderator
      // screen): the room, as its viewers see it, leaves it out.
      if (!ev.held) chat.add(ev);
      return;
    case "comment_hidden": // a moderator took these lines down
      chat.remove(ev.ids);
      return;
    case "comment_shown":
      chat.insert(ev);
      return;
    case "like": {
      // The room's total (every ~second). Hearts for the likes of others since the last one.
      const others = ev.count - serverLikes - myLikes;
      for (let i = 0; i < Math.min(6, others); i++) setTimeout(heart, i * 120);
      serverLikes = ev.count;
      myLikes = 0;
      state.likes = ev.count;
      break;
    }
    case "viewers":
      state.viewers = ev.count;
      break;
    case "pin":
      state.pinned = ev.product;
      if (ev.product) state.showcase.set(ev.product.product_id, ev.product);
      renderProducts();
      followSheet();
      break;
    case "deal_started":
      setDeal(ev.deal);
      renderProducts();
      followSheet();
      break;
    case "deal_ended":
      state.endedDeals.add(ev.deal_id);
      drop.ended(ev.deal_id, ev.reason);
      if (state.deal && state.deal.deal_id === ev.deal_id) {
        const shownFor = ev.reason === "sold_out" ? SOLD_OUT_SHOWN_MS : ENDED_SHOWN_MS;
        state.dealEnded = { deal: state.deal, reason: ev.reason, until: Date.now() + shownFor };
        state.deal = null;
      }
      renderProducts();
      followSheet();
      break;
    case "stock":
      applyStock(ev);
      renderProducts();
      sheet.refresh(state.deal);
      break;
    case "purchase":
      tick(tickerText(ev));
      break;
    case "session_started":
      state.status = "live";
      break;
    case "session_ended":
      state.status = ev.status || "ended";
      break;
    case "video":
      video.onEvent(ev);
      return;
    default:
      return;
  }
  renderStats();
}

// An open buy sheet follows the room: a flash deal starting or ending, or a new pin, may
// change what its product costs, so it shows the offer as it is now and asks for its price.
function followSheet() {
  const id = sheet.productId;
  if (id === null) return;
  const pinned = state.pinned && state.pinned.product_id === id ? state.pinned : null;
  const product = pinned || state.showcase.get(id) || null;
  const deal = state.deal && state.deal.product_id === id ? state.deal : null;
  sheet.follow(product, deal);
}

async function reconcileDeal() {
  // A snapshot only knows deals this node saw start; the API reads the database.
  try {
    const resp = await fetch(data.deal_api, { headers: { Accept: "application/json" } });
    if (!resp.ok) return;
    const deal = await resp.json();
    const before = state.deal ? state.deal.deal_id : null;
    if (deal && deal.status === "active") setDeal(deal);
    else if (!deal && state.deal) state.deal = null;
    renderProducts();
    if ((state.deal ? state.deal.deal_id : null) !== before) followSheet();
  } catch {
    /* offline: the socket's reconnect will try again */
  }
}

function onSnapshot(snap) {
  state.status = (snap.session && snap.session.status) || state.status;
  state.pinned = snap.pinned;
  if (snap.pinned) state.showcase.set(snap.pinned.product_id, snap.pinned);
  if (snap.deal) setDeal(snap.deal);
  state.viewers = snap.viewers || 0;
  state.likes = Math.max(snap.likes || 0, state.likes);
  serverLikes = snap.likes || 0;
  chat.reset(snap.comments);
  auction.snapshot(snap.auction);
  engage.snapshot(snap);
  renderProducts();
  renderStats();
  reconcileDeal();
}

let reconnectTimer = null;
function onStatus(status, code) {
  root.dataset.connection = status; // tests and styles can tell a live socket from a dead one
  const pill = $("reconnecting");
  if (status === "open") {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    pill.hidden = true;
    return;
  }
  if (status === "closed") {
    clearTimeout(reconnectTimer);
    pill.hidden = code !== 4404;
    if (code === 4404) pill.textContent = t("this_show_is_not_available");
    return;
  }
  if (reconnectTimer === null) {
    reconnectTimer = setTimeout(() => (pill.hidden = false), RECONNECTING_AFTER_MS);
  }
}

function onError(frame) {
  const messages = {
    "sign-in-required": t("log_in_to_chat"),
    "rate-limited": t("you_re_sending_messages_too_fast_wait_a"),
    "comment-too-long": t("that_message_is_too_long"),
  };
  if (frame.code === "banned") {
    chat.say(chatNote.dataset.msgBanned);
    return;
  }
  if (frame.code === "muted") {
    const until = frame.until ? new Date(frame.until) : null;
    const when = until
      ? until.toLocaleString(data.money.locale, { dateStyle: "medium", timeStyle: "short" })
      : null;
    chat.say(when ? t("you_re_muted_in_this_room_until", { when }) : t("you_re_muted_in_this_room"));
    return;
  }
  chat.say(messages[frame.code] || frame.detail || t("that_didn_t_work"));
}

// --- start ---------------------------------------------------------------------------------

const socket = new RoomSocket(data.ws_path, {
  onSnapshot,
  onEvent,
  onStatus,
  onError,
  onDirect: (frame) => (frame.type === "case_opened" ? caseOpened(frame) : drop.onDirect(frame)),
});
const chatNote = $("chat-note");
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));

// A comment the platform read as a complaint about an order, stock or delivery was held from
// the room and became a support case: only its author hears of it.
function caseOpened(frame) {
  const text = frame.new ? chatNote.dataset.msgCaseOpened : chatNote.dataset.msgCaseAdded;
  chat.say(fill(text, { n: frame.case_id, shop: frame.shop }));
}

// Report a line (viewers signed in): a reason, an optional note, to the moderators' queue.
const reportDialog = root.querySelector("[data-region=report-dialog]");
let reporting = null;
function reportAction(comment, { mine }) {
  if (!reportDialog || mine || comment.host || !comment.user || comment.id == null) return null;
  return el("button", {
    type: "button",
    class: "chat-report",
    text: "⚑",
    title: chatNote.dataset.msgReport,
    "aria-label": fill(chatNote.dataset.msgReportLabel, { name: comment.user.name }),
    onclick: () => openReport(comment),
  });
}
// ``comment`` null: the show itself is reported (its host is the target).
function openReport(comment) {
  reporting = comment ? { comment } : { show: true };
  reportDialog.querySelector("form").reset();
  const title = reportDialog.querySelector("[data-report=title]");
  title.textContent = comment ? title.dataset.comment : title.dataset.show;
  reportDialog.querySelector("[data-report=text]").textContent = comment ? `${comment.user.name}: ${comment.text}` : document.getElementById("room-title").textContent;
  reportDialog.querySelector("[data-report=what]").hidden = !comment;
  reportDialog.querySelector("[data-report=error]").hidden = true;
  reportDialog.showModal();
}
const reportShow = root.querySelector("[data-region=report-show]");
if (reportShow && reportDialog) reportShow.addEventListener("click", () => openReport(null));
if (reportDialog) {
  const form = reportDialog.querySelector("form");
  reportDialog.querySelector("[data-report=cancel]").addEventListener("click", () => reportDialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!reporting) return;
    const fields = new FormData(form);
    const error = reportDialog.querySelector("[data-report=error]");
    try {
      const resp = await fetch(`/api/v1/live/sessions/${data.session_id}/reports`, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({
          ...(reporting.show
            ? { show: true }
            : fields.get("what") === "viewer"
              ? { user_id: reporting.comment.user.id }
              : { comment_id: reporting.comment.id }),
          reason: String(fields.get("reason")),
          note: String(fields.get("note") || ""),
        }),
      });
      const answer = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error(answer.detail || resp.statusText);
      reportDialog.close();
      chat.say(chatNote.dataset.msgReported);
    } catch (err) {
      error.textContent = String(err.message || err);
      error.hidden = false;
    }
  });
}

const chat = new Chat($("chat"), {
  userId: user ? user.id : null,
  form: $("chat-form"),
  send: (frame) => socket.send(frame, { queue: true }),
  note: chatNote,
  actions: reportAction,
});
const sheet = new BuySheet(root.querySelector("[data-region=sheet]"), {
  data,
  money,
  onPaid: (order, claim) => {
    if (claim) drop.paid();
    showToast(...paidToast(order));
  },
  onSoldOut: (dealId) => {
    if (state.deal && state.deal.deal_id === dealId) state.deal.available = 0;
    renderProducts();
  },
  payViaSocket: (claim, total) => drop.payViaSocket(claim, total),
  claimViaSocket: (skuId, quantity) => drop.claimShelfViaSocket(skuId, quantity),
});
const auction = new AuctionPanel($("auction"), { data, money, user });
const engage = new Engagement(root, {
  msgs: JSON.parse(document.getElementById("engage-msgs").textContent),
  user,
  host: !!(user && user.host),
  sessionId: data.session_id,
});
const qaSheet = root.querySelector("[data-engage=qa-sheet]");
root.querySelector("[data-engage=qa-open]").addEventListener("click", () => {
  engage.questions.load();
  qaSheet.showModal();
});
root.querySelector("[data-engage=qa-close]").addEventListener("click", () => qaSheet.close());
const video = new RoomVideo($("video"), { api: data.video_api });
const drop = new Drop({
  data,
  socket,
  onChange: renderProducts,
  onPay: (product, deal, claim) => sheet.openClaim(product, deal, claim),
});
drop.follow(state.deal);

function paidToast(order) {
  const paid = order.status === "paid";
  return [
    el("strong", { text: paid ? t("paid") : t("order_placed") }),
    t("order", { id: order.id, display_total: order.display_total }),
    el("a", {
      href: paid ? `/orders/${order.id}` : `/orders/${order.id}/pay`,
      text: paid ? t("view_order") : t("finish_paying"),
    }),
  ];
}

// Phones: the chat and the like button sit just above the product dock, whatever its height.
const desktop = window.matchMedia("(min-width: 900px)");
function measure() {
  const header = document.querySelector(".site-header");
  if (header) document.documentElement.style.setProperty("--header-h", `${header.offsetHeight}px`);
  if (desktop.matches) root.style.removeProperty("--dock");
  else root.style.setProperty("--dock", `${root.querySelector(".room-side").offsetHeight}px`);
}
new ResizeObserver(measure).observe(root.querySelector(".room-side"));
desktop.addEventListener("change", measure);

// A replay: the product timeline under the player; the card follows what is on screen.
if (["ended", "cancelled"].includes(data.status)) {
  const replay = new ReplayTimeline($("replay"), {
    api: data.timeline_api,
    video,
    onProduct: (summary) => {
      if (!summary) return; // between products the last card stays (the shop stays open)
      const full = state.showcase.get(summary.product_id);
      state.pinned = full || {
        product_id: summary.product_id,
        title: summary.title,
        image_url: summary.image_url,
        price_minor: summary.price_minor,
        skus: [],
      };
      renderProducts();
    },
  });
  replay.load();
}

renderProducts();
renderStats();
measure();
setInterval(tickCountdowns, 250); // an auction's last seconds count down on time
setInterval(releaseHeld, 100);
tickCountdowns();
socket.start();
video.start();
// counted as a viewer only while this tab is visible and the video plays (/analytics/method)
new Heartbeat((frame) => socket.send(frame), video.video, data.heartbeat_ms || 15000).start();
