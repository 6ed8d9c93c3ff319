// Creator studio, one show: the room's live counters and chat (the creator joins the same
// room socket as the viewers), pin highlights, the running deal's clock and stock, and the
// stream key / OBS settings from the video API.
import { t } from "./i18n.js";
import { tickerText } from "./live/ticker.js";
import { AuctionPanel } from "./live/auction.js";
import { Chat } from "./live/chat.js";
import { Engagement, isEngagement } from "./live/engage.js";
import { compactCount, countdownText, csrfToken, el, fillBars, moneyFormatter } from "./live/format.js";
import { RoomSocket } from "./live/socket.js";

const root = document.getElementById("studio");
fillBars(root);
const data = JSON.parse(document.getElementById("room-data").textContent);
const money = moneyFormatter(data.money);
const counter = (name) => root.querySelector(`[data-counter=${name}]`);
const region = (name) => root.querySelector(`[data-region=${name}]`);

const counts = {
  viewers: 0,
  peak: Number(counter("peak").textContent) || 0,
  likes: Number(counter("likes").textContent) || 0,
  comments: Number(counter("comments").textContent) || 0,
};

function renderCounts() {
  const locale = data.money.locale;
  counter("viewers").textContent = compactCount(counts.viewers, locale);
  counter("peak").textContent = compactCount(counts.peak, locale);
  counter("likes").textContent = compactCount(counts.likes, locale);
  counter("comments").textContent = compactCount(counts.comments, locale);
}

// Orders and sales come from the session row (written when an order is paid, before the
// room hears of the purchase), so each purchase event re-reads it.
let refreshing = null;
async function refreshSales() {
  if (refreshing) return;
  refreshing = (async () => {
    try {
      const resp = await fetch(data.session_api, { headers: { Accept: "application/json" } });
      if (!resp.ok) return;
      const row = await resp.json();
      counter("orders").textContent = String(row.orders_count);
      counter("gmv").textContent = money(row.gmv_minor);
      counts.peak = Math.max(counts.peak, row.peak_viewers);
      renderCounts();
    } catch {
      /* the next purchase tries again */
    } finally {
      refreshing = null;
    }
  })();
}

function markPinned(productId) {
  for (const row of root.querySelectorAll(".pin-row")) {
    row.classList.toggle("is-pinned", productId !== null && row.dataset.productId == productId);
  }
}

const deal = root.querySelector(".deal-now");
function dealStock(available) {
  if (!deal) return;
  const units = Number(deal.dataset.units);
  const text = deal.querySelector("[data-deal-stock]");
  text.textContent = available === 0 ? t("sold_out_2") : t("of_left_2", { available, units });
  deal.querySelector(".stock-bar span").style.width = `${Math.round((available * 100) / units)}%`;
  deal.classList.toggle("is-sold-out", available === 0);
}

function dealOver(reason) {
  if (!deal) return;
  const words = { sold_out: t("sold_out_the_deal_has_ended"), expired: t("time_is_up_the_deal_has_ended"), ended_early: t("the_deal_has_ended") };
  deal.querySelector("[data-deal-state]").replaceChildren(
    words[reason] || t("the_deal_has_ended"),
    " ",
    el("a", { href: `${location.pathname}#deal`, text: t("start_another"), onclick: () => location.reload() }),
  );
  const end = deal.querySelector("form button");
  if (end) end.disabled = true;
  const clock = deal.querySelector(".countdown");
  if (clock) clock.dataset.state = "ended";
}

const ticker = region("ticker");
let tickerTimer = null;
function tick(text) {
  ticker.textContent = text;
  ticker.hidden = false;
  clearTimeout(tickerTimer);
  tickerTimer = setTimeout(() => (ticker.hidden = true), 5000);
}

function onEvent(ev) {
  if (ev.type.startsWith("auction_")) return auction.onEvent(ev);
  if (isEngagement(ev.type)) return engage.onEvent(ev);
  switch (ev.type) {
    case "comment":
      if (ev.held) return; // the filter held it: on the moderator screen, not in the studio's chat
      counts.comments += 1;
      chat.add(ev);
      break;
    case "comment_hidden":
      chat.remove(ev.ids);
      return;
    case "comment_shown":
      chat.insert(ev);
      return;
    case "viewers":
      counts.viewers = ev.count;
      counts.peak = Math.max(counts.peak, ev.count);
      break;
    case "like":
      counts.likes = Math.max(counts.likes, ev.count);
      break;
    case "pin":
      markPinned(ev.product ? ev.product.product_id : null);
      break;
    case "stock":
      if (deal && ev.deal_id == deal.dataset.dealId) dealStock(ev.available);
      break;
    case "deal_ended":
      if (deal && ev.deal_id == deal.dataset.dealId) dealOver(ev.reason);
      break;
    case "purchase":
      tick(tickerText(ev));
      refreshSales();
      break;
    default:
      return;
  }
  renderCounts();
}

function onSnapshot(snap) {
  auction.snapshot(snap.auction);
  engage.snapshot(snap);
  counts.viewers = snap.viewers || 0;
  counts.likes = Math.max(counts.likes, snap.likes || 0);
  markPinned(snap.pinned ? snap.pinned.product_id : null);
  chat.reset(snap.comments);
  renderCounts();
  refreshSales();
}

function tickCountdowns() {
  for (const node of root.querySelectorAll(".countdown[data-ends-at]")) {
    if (node.dataset.state === "ended") {
      node.textContent = "";
      continue;
    }
    const text = countdownText(Date.parse(node.dataset.endsAt));
    node.textContent = text ? t("ends_in", { text }) : t("ending");
  }
}

// --- stream key and OBS settings ------------------------------------------------------------

const stream = region("stream");
const streamApi = root.querySelector("#stream").dataset.api;

function obsSettings(info, newKey) {
  const rows = [
    [t("service"), t("custom")],
    [t("server"), info.rtmp_url || t("video_ingest_is_off_on_this_server")],
    [t("stream_key"), newKey ? t("shown_below_once") : info.has_key ? t("hidden", { prefix: info.prefix }) : t("none_yet")],
    [t("output"), t("720_1280_or_1080_1920_vertical_keyframe")],
  ];
  return el(
    "dl",
    { class: "obs" },
    rows.map(([k, v]) => el("div", {}, el("dt", { text: k }), el("dd", {}, k === t("server") && info.rtmp_url ? el("code", { text: v }) : v))),
  );
}

function renderStream(info, newKey = null) {
  const button = el("button", {
    type: "button",
    class: "btn btn-secondary",
    text: info.has_key || newKey ? t("rotate_key") : t("create_stream_key"),
    onclick: () => rotate(button),
  });
  const parts = [
    obsSettings(info, newKey),
    newKey
      ? el(
          "div",
          {},
          el("p", { class: "new-key", "data-new-key": "", text: newKey }),
          el("p", { class: "muted small", text: t("paste_it_into_obs_now_it_is_not_shown_ag") }),
        )
      : null,
    el("div", { class: "stream-actions" }, button),
  ];
  stream.replaceChildren(...parts.filter(Boolean));
}

async function loadStream() {
  try {
    const resp = await fetch(streamApi, { headers: { Accept: "application/json" } });
    if (!resp.ok) throw new Error(String(resp.status));
    renderStream(await resp.json());
  } catch {
    stream.replaceChildren(el("p", { class: "muted", text: t("video_is_not_available_on_this_server_yo") }));
  }
}

async function rotate(button) {
  if (!confirm(t("make_a_new_stream_key_the_current_one_st"))) return;
  button.disabled = true;
  try {
    const resp = await fetch(`${streamApi}/rotate`, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
    });
    const answer = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(answer.detail || t("that_didn_t_work"));
    renderStream({ has_key: true, prefix: answer.prefix, rtmp_url: answer.rtmp_url }, answer.stream_key);
  } catch (err) {
    button.disabled = false;
    stream.append(el("p", { class: "sheet-error", role: "alert", text: String(err.message || err) }));
  }
}

// --- chat moderation: hide a line, mute its author, unmute ----------------------------------
// The API under the session (cookie + X-CSRF-Token, like the stream key); hiding and muting
// reach every viewer as room events, so this page's chat follows the same events.

async function moderate(method, path, body) {
  const resp = await fetch(`${data.session_api}${path}`, {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "X-CSRF-Token": csrfToken(),
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = resp.status === 204 ? {} : await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(answer.detail || t("that_didn_t_work"));
  return answer;
}

function lineActions(comment, { mine }) {
  if (comment.id === undefined || comment.id === null) return null;
  const name = comment.user ? comment.user.name : "someone";
  const hide = el("button", {
    type: "button",
    text: t("hide"),
    "aria-label": t("hide_comment_by", { name }),
    onclick: async () => {
      hide.disabled = true;
      try {
        await moderate("POST", `/comments/${comment.id}/hide`);
        chat.remove([comment.id]);
      } catch (err) {
        hide.disabled = false;
        chat.say(String(err.message || err));
      }
    },
  });
  const mute =
    comment.host || mine || !comment.user
      ? null
      : el("button", {
          type: "button",
          text: t("mute"),
          "aria-label": t("mute_2", { name }),
          onclick: () => openMute(comment.user),
        });
  return el("span", { class: "chat-actions" }, hide, mute);
}

const muteDialog = region("mute-dialog");
const muteForm = muteDialog.querySelector("form");
const muteError = muteDialog.querySelector("[data-mute=error]");
let muting = null;

function openMute(user) {
  muting = user;
  muteDialog.querySelector("[data-mute=name]").textContent = user.name;
  muteForm.reset();
  muteError.hidden = true;
  muteDialog.showModal();
}

muteDialog.querySelector("[data-mute=cancel]").addEventListener("click", () => muteDialog.close());
muteForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!muting) return;
  const user = muting;
  const form = new FormData(muteForm);
  const button = muteForm.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const made = await moderate("POST", "/mutes", {
      user_id: user.id,
      duration_minutes: form.get("duration") ? Number(form.get("duration")) : null,
      reason: String(form.get("reason") || ""),
      hide_comments: form.get("hide_comments") === "on",
    });
    chat.remove(made.hidden_comment_ids);
    showMuted(made);
    muteDialog.close();
    chat.say(t("name_is_muted", { name: user.name }));
  } catch (err) {
    muteError.textContent = String(err.message || err);
    muteError.hidden = false;
  } finally {
    button.disabled = false;
  }
});

const mutes = region("mutes");
const noMutes = region("no-mutes");

function untilText(expiresAt) {
  if (!expiresAt) return t("until_you_unmute_them");
  const when = new Date(expiresAt).toLocaleString(data.money.locale, {
    dateStyle: "medium",
    timeStyle: "short",
  });
  return t("until_when", { when });
}

function showMuted(m) {
  const old = mutes.querySelector(`[data-user-id="${m.user_id}"]`);
  const row = el(
    "li",
    { class: "muted-row", dataset: { userId: m.user_id } },
    el(
      "div",
      {},
      el("span", { class: "muted-name", text: m.display_name }),
      el("span", { class: "pin-meta", text: untilText(m.expires_at) + (m.reason ? ` · ${m.reason}` : "") }),
    ),
    el("button", {
      type: "button",
      class: "btn btn-ghost btn-sm",
      text: t("unmute"),
      "aria-label": t("unmute_2", { display_name: m.display_name }),
      dataset: { unmute: m.user_id },
    }),
  );
  if (old) old.replaceWith(row);
  else mutes.prepend(row);
  noMutes.hidden = true;
}

mutes.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-unmute]");
  if (!button) return;
  const row = button.closest(".muted-row");
  const name = row.querySelector(".muted-name").textContent;
  button.disabled = true;
  try {
    await moderate("DELETE", `/mutes/${button.dataset.unmute}`);
    row.remove();
    noMutes.hidden = mutes.children.length > 0;
    chat.say(t("name_can_comment_again", { name }));
  } catch (err) {
    button.disabled = false;
    chat.say(String(err.message || err));
  }
});

// --- start ------------------------------------------------------------------------------------

// --- the live dashboard (the creator's own sockets get it every few seconds) ------------------

function onDashboard(d) {
  const set = (key, text) => {
    const node = root.querySelector(`[data-dash=${key}]`);
    if (node) node.textContent = text;
  };
  set("viewers", String(d.viewers));
  set("unique_viewers", String(d.unique_viewers));
  set("comments", String(d.comments));
  set("orders", String(d.orders));
  set("gmv", money(d.gmv_minor));
  set("conversion", d.conversion_bp === null ? "–" : `${(d.conversion_bp / 100).toFixed(1)} %`);
  const mineBox = root.querySelector("#my-earnings");
  const wait = mineBox ? mineBox.dataset.perHourWait : "–";
  set("earnings", money(d.earnings_minor));
  set("earnings_per_hour", d.earnings_per_hour_minor === null ? wait : money(d.earnings_per_hour_minor));
  const mine = d.my_earnings;
  if (mineBox && mine) {
    const put = (key, text) => {
      const node = mineBox.querySelector(`[data-earnings=${key}]`);
      if (node && !node.hasAttribute("data-none")) node.textContent = text;
    };
    put("base_fee", money(mine.base_fee_minor));
    put("commission_pending", money(mine.commission_pending_minor));
    put("commission_payable", money(mine.commission_payable_minor));
    put("projected", money(mine.projected_total_minor));
    put("per_hour", mine.per_live_hour_minor === null ? wait : money(mine.per_live_hour_minor));
    mineBox.dataset.updatedAt = String(Date.now());
  }
  const top = root.querySelector("[data-dash=top]");
  if (top) {
    top.replaceChildren(
      ...d.top_products.map((p) => el("li", { text: t("sold", { title: p.title, units: p.units, amount: money(p.gross_minor) }) })),
    );
  }
  root.dataset.dashboardAt = String(Date.now());
}

const socket = new RoomSocket(data.ws_path, {
  onSnapshot,
  onEvent,
  onDashboard,
  onStatus: (status) => (root.dataset.connection = status),
  onError: (frame) => chat.say(frame.detail || t("that_didn_t_work")),
});
const chat = new Chat(region("chat"), {
  userId: data.user ? data.user.id : null,
  form: region("chat-form"),
  send: (frame) => socket.send(frame, { queue: true }),
  note: region("chat-note"),
  actions: lineActions,
});
renderCounts();
tickCountdowns();
const auction = new AuctionPanel(root.querySelector("[data-region=auction]"), { data, money, user: data.user });
setInterval(() => auction.tick(), 250);
const engage = new Engagement(root, {
  msgs: JSON.parse(document.getElementById("engage-msgs").textContent),
  user: data.user,
  host: true,
  sessionId: data.session_id,
});
setInterval(() => engage.tick(), 500);

// The giveaway and poll forms: sent to the API; what they start comes back as room events.
function engageForm(name, body) {
  const form = root.querySelector(`[data-engage=${name}]`);
  if (!form) return;
  const error = form.querySelector("[data-engage=form-error]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    error.hidden = true;
    try {
      const resp = await fetch(form.dataset.api, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify(body(new FormData(form))),
      });
      const answer = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error(answer.detail || String(resp.status));
      if (name === "giveaway-form") engage.giveaway.snapshot(answer);
      else engage.poll.snapshot(answer);
      if (name === "poll-form") form.reset();
    } catch (err) {
      error.textContent = String(err.message || err);
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
}
engageForm("giveaway-form", (f) => ({
  sku_id: Number(f.get("sku_id")),
  eligibility: String(f.get("eligibility")),
  entry_seconds: Number(f.get("entry_seconds")),
}));
engageForm("poll-form", (f) => ({
  question: String(f.get("question") || ""),
  options: f.getAll("option").map(String).map((o) => o.trim()).filter(Boolean),
}));
setInterval(tickCountdowns, 1000);
if (["scheduled", "live"].includes(data.status)) socket.start();
loadStream();

// --- stream health: a preview of what the ingest receives, its numbers, plain warnings -------

const HEALTH_EVERY_MS = 5000;
const health = region("health");
const healthApi = `/api/v1/video/${data.session_id}/health`;
let preview = null; // {hls, url}

async function showPreview(url) {
  if (preview && preview.url === url) return;
  const video = health.querySelector("video");
  if (!video || !(window.MediaSource || window.ManagedMediaSource)) return;
  let Hls;
  try {
    ({ default: Hls } = await import("/static/vendor/hls.min.mjs"));
  } catch {
    return;
  }
  if (!Hls.isSupported()) return;
  if (preview) preview.hls.destroy();
  const hls = new Hls({ liveSyncDuration: 1.2, liveMaxLatencyDuration: 5, maxLiveSyncPlaybackRate: 1.2 });
  preview = { hls, url };
  hls.on(Hls.Events.ERROR, (_e, info) => {
    if (info.fatal) {
      hls.destroy();
      preview = null; // the next health check starts it again
    }
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  video.hidden = false;
  video.play().catch(() => {});
}

function stopPreview() {
  if (preview) preview.hls.destroy();
  preview = null;
  const video = health.querySelector("video");
  if (video) video.hidden = true;
}

function renderHealth(h) {
  const stats = health.querySelector("[data-health=stats]");
  const warnings = health.querySelector("[data-health=warnings]");
  const status = health.querySelector("[data-health=status]");
  status.textContent = h.receiving
    ? t("receiving_your_stream")
    : h.state === "reconnecting"
      ? t("your_encoder_disconnected_reconnect_to_c")
      : t("not_receiving_start_streaming_in_obs");
  const rows = h.receiving && h.has_video
    ? [
        [t("picture"), h.width && h.height ? `${h.width}×${h.height}` : "—"],
        [t("frame_rate"), h.fps ? t("fps", { fps: h.fps }) : "—"],
        [t("bitrate"), h.kbps != null ? t("kbps", { kbps: h.kbps.toLocaleString(data.money.locale) }) : "—"],
        [t("keyframes"), h.keyframe_interval_s ? t("every_s", { keyframe_interval_s: h.keyframe_interval_s.toFixed(1) }) : "—"],
        [t("sound"), h.has_audio ? t("yes") : t("no")],
      ]
    : [];
  stats.replaceChildren(...rows.map(([k, v]) => el("div", {}, el("dt", { text: k }), el("dd", { text: v }))));
  stats.hidden = !rows.length;
  warnings.replaceChildren(...h.warnings.map((w) => el("li", { text: w })));
  warnings.hidden = !h.warnings.length;
  if (h.receiving && h.playlist_ready && h.preview_url) showPreview(h.preview_url);
  else if (!h.receiving) stopPreview();
}

async function checkHealth() {
  try {
    const resp = await fetch(healthApi, { headers: { Accept: "application/json" } });
    if (resp.ok) {
      health.hidden = false;
      renderHealth(await resp.json());
    }
  } catch {
    // the next check
  }
  setTimeout(checkHealth, HEALTH_EVERY_MS);
}
if (health) checkHealth();


// --- simulcast: other platforms' destinations and their relays' status ----------------------

const simulcast = region("simulcast");
const SIMULCAST_API = "/api/v1/video/simulcast";
const RELAY_STATES = {
  connecting: t("connecting"),
  live: t("relay_live"),
  retrying: t("reconnecting_retrying"),
  stopped: t("relay_stopped"),
};

async function simulcastCall(method, path, body) {
  const resp = await fetch(path, {
    method,
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!resp.ok) {
    const problem = await resp.json().catch(() => ({}));
    throw new Error(problem.detail || problem.title || t("error_status", { status: resp.status }));
  }
  return resp.status === 204 ? null : resp.json();
}

function renderDestinations(rows) {
  const list = simulcast.querySelector("[data-simulcast=list]");
  list.replaceChildren(
    ...rows.map((d) => {
      const state = d.state ? RELAY_STATES[d.state] || d.state : t("starts_when_you_go_live");
      const remove = el("button", { type: "button", class: "btn btn-ghost", text: t("remove") });
      remove.addEventListener("click", async () => {
        if (!confirm(t("stop_streaming_to", { label: d.label }))) return;
        await simulcastCall("DELETE", `${SIMULCAST_API}/${d.id}`).catch(() => {});
        loadDestinations();
      });
      return el(
        "li",
        { class: `simulcast-row is-${d.state || "idle"}`, dataset: { destination: String(d.id) } },
        el("strong", { text: d.label }),
        el("span", { class: "muted small", text: ` ${d.host} · ` }),
        el("span", { class: "relay-state", text: state }),
        d.error && d.state === "retrying" ? el("span", { class: "muted small", text: ` (${d.error})` }) : null,
        remove,
      );
    }),
  );
}

async function loadDestinations() {
  try {
    renderDestinations(await simulcastCall("GET", SIMULCAST_API));
  } catch {
    simulcast.hidden = true;
  }
}

if (simulcast) {
  const form = simulcast.querySelector("[data-simulcast=form]");
  const error = simulcast.querySelector("[data-simulcast=error]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const fields = Object.fromEntries(new FormData(form));
    try {
      await simulcastCall("POST", SIMULCAST_API, { label: fields.label, url: fields.url, key: fields.key });
      form.reset(); // the key leaves the page: it is never shown again
      loadDestinations();
    } catch (err) {
      error.textContent = String(err.message || err);
      error.hidden = false;
    }
  });
  loadDestinations();
  setInterval(loadDestinations, 5000);
}
