// The moderator's live screen: the room's chat as it comes in (hide, mute, ban per line) —
// with the lines the automatic filter held, marked, which a moderator may show after all —
// the reports queue (re-read the moment the room's socket says a report came in or was
// dismissed, a `reports` event only hosts get; and every half minute, should a socket miss
// it) and who is muted or banned.
// Every action is the chat API under the session (cookie + X-CSRF-Token); the words shown
// come from the page (data-msg-*).
import { Chat } from "./live/chat.js";
import { csrfToken, el } from "./live/format.js";
import { RoomSocket } from "./live/socket.js";

const root = document.getElementById("moderate");
const data = JSON.parse(document.getElementById("room-data").textContent);
const msg = root.dataset;
const region = (name) => root.querySelector(`[data-region=${name}]`);
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
const REPORTS_EVERY_MS = 30_000; // a fallback: reports arrive over the room's socket

async function call(method, url, body) {
  const resp = await fetch(url, {
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
  if (!resp.ok) throw new Error(answer.detail || msg.msgFailed);
  return answer;
}
const api = (path) => `${data.session_api}${path}`;

async function unhide(commentId) {
  await call("POST", api(`/comments/${commentId}/unhide`));
}

async function hide(commentId) {
  await call("POST", api(`/comments/${commentId}/hide`));
  chat.remove([commentId]);
  chat.say(msg.msgHidden);
  loadReports();
}

// --- mute / ban dialog ---------------------------------------------------------------------
const dialog = region("act-dialog");
const form = dialog.querySelector("form");
const error = dialog.querySelector("[data-act=error]");
let acting = null; // {user: {id, name}, ban}

function openAct(user, ban) {
  acting = { user, ban };
  form.reset();
  error.hidden = true;
  dialog.querySelector("[data-act=verb]").textContent = ban ? msg.msgBan : msg.msgMute;
  dialog.querySelector("[data-act=name]").textContent = user.name;
  dialog.querySelector("[data-act=duration-field]").hidden = ban;
  dialog.querySelector("[data-act=submit]").textContent = ban ? msg.msgBan : msg.msgMute;
  dialog.showModal();
}
dialog.querySelector("[data-act=cancel]").addEventListener("click", () => dialog.close());
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!acting) return;
  const { user, ban } = acting;
  const fields = new FormData(form);
  const body = {
    user_id: user.id,
    reason: String(fields.get("reason") || ""),
    hide_comments: fields.get("hide_comments") === "on",
  };
  if (!ban) body.duration_minutes = fields.get("duration") ? Number(fields.get("duration")) : null;
  try {
    const made = await call("POST", api(ban ? "/bans" : "/mutes"), body);
    chat.remove(made.hidden_comment_ids);
    showRestricted(made);
    dialog.close();
    chat.say(fill(ban ? msg.msgBanned : msg.msgMuted, { name: user.name }));
    loadReports();
  } catch (err) {
    error.textContent = String(err.message || err);
    error.hidden = false;
  }
});

// --- chat ------------------------------------------------------------------------------------
function button(text, label, onclick) {
  return el("button", { type: "button", text, "aria-label": label, onclick });
}

function lineActions(comment, { mine }) {
  if (comment.id === undefined || comment.id === null) return null;
  const name = comment.user ? comment.user.name : "";
  const restrict = !(comment.host || mine || !comment.user);
  return el(
    "span",
    { class: "chat-actions" },
    comment.held ? el("span", { class: "chat-held", text: msg.msgHeld }) : null,
    comment.held
      ? button(msg.msgUnhide, `${msg.msgUnhide} · ${name}`, () => unhide(comment.id).catch((e) => chat.say(e.message)))
      : button(msg.msgHide, `${msg.msgHide} · ${name}`, () => hide(comment.id).catch((e) => chat.say(e.message))),
    restrict ? button(msg.msgMute, `${msg.msgMute} · ${name}`, () => openAct(comment.user, false)) : null,
    restrict ? button(msg.msgBan, `${msg.msgBan} · ${name}`, () => openAct(comment.user, true)) : null,
  );
}

function onEvent(ev) {
  if (ev.type === "comment") chat.add(ev);
  else if (ev.type === "comment_hidden") chat.remove(ev.ids);
  else if (ev.type === "comment_shown") {
    // A held line shown after all: its held mark goes.
    const held = chat.find(ev.id);
    if (held && held.querySelector(".chat-held")) {
      held.remove();
      chat.seen.delete(ev.id);
    }
    chat.insert(ev);
  } else if (ev.type === "reports") loadReports();
}

// --- reports ---------------------------------------------------------------------------------
const reports = region("reports");

function reportRow(r) {
  const user = { id: r.target.user_id, name: r.target.display_name };
  const actions = el(
    "div",
    { class: "report-actions" },
    r.comment_id && !r.comment_hidden
      ? el("button", { type: "button", class: "btn btn-secondary btn-sm", text: msg.msgHide, onclick: () => hide(r.comment_id).catch((e) => chat.say(e.message)) })
      : null,
    r.subject === "show" ? null : el("button", { type: "button", class: "btn btn-danger btn-sm", text: msg.msgBan, onclick: () => openAct(user, true) }),
    el("button", {
      type: "button",
      class: "btn btn-ghost btn-sm",
      text: msg.msgDismiss,
      onclick: async () => {
        try {
          await call("POST", `/api/v1/live/reports/${r.id}/dismiss`);
        } catch (err) {
          chat.say(String(err.message || err));
        }
        loadReports();
      },
    }),
  );
  return el(
    "li",
    { class: "report-row", dataset: { reportId: r.id } },
    el("p", { class: "report-quote" }, el("b", { text: user.name }), `: ${r.subject === "show" ? msg.msgTheShow : (r.comment_text ?? msg.msgAViewer)}`),
    el("span", {
      class: "muted small",
      text: fill(msg.msgReportedBy, { name: r.reporter.display_name, reason: r.reason }) + (r.note ? ` · ${r.note}` : ""),
    }),
    actions,
  );
}

let loading = null;
async function loadReports() {
  if (loading) return loading;
  loading = (async () => {
    try {
      const list = await call("GET", data.reports_api);
      reports.replaceChildren(...list.map(reportRow));
      region("no-reports").hidden = list.length > 0;
      region("report-count").textContent = String(list.length);
      root.dataset.reportsAt = String(Date.now());
    } catch {
      /* the next round tries again */
    } finally {
      loading = null;
    }
  })();
  return loading;
}

// --- muted and banned ------------------------------------------------------------------------
const mutes = region("mutes");

function showRestricted(m) {
  const old = mutes.querySelector(`[data-user-id="${m.user_id}"]`);
  const row = el(
    "li",
    { class: "muted-row", dataset: { userId: m.user_id } },
    el(
      "div",
      {},
      el("span", { class: "muted-name", text: m.display_name }),
      el("span", { class: "pin-meta", text: (m.ban ? msg.msgBanLabel : msg.msgMuteLabel) + (m.reason ? ` · ${m.reason}` : "") }),
    ),
    el("button", {
      type: "button",
      class: "btn btn-ghost btn-sm",
      text: msg.msgLift,
      dataset: { lift: m.ban ? "ban" : "mute", userId: m.user_id, name: m.display_name },
    }),
  );
  if (old) old.replaceWith(row);
  else mutes.prepend(row);
}

mutes.addEventListener("click", async (event) => {
  const lift = event.target.closest("button[data-lift]");
  if (!lift) return;
  lift.disabled = true;
  try {
    await call("DELETE", api(`/${lift.dataset.lift === "ban" ? "bans" : "mutes"}/${lift.dataset.userId}`));
    lift.closest(".muted-row").remove();
    chat.say(fill(msg.msgLifted, { name: lift.dataset.name }));
  } catch (err) {
    lift.disabled = false;
    chat.say(String(err.message || err));
  }
});

// --- start -----------------------------------------------------------------------------------
const socket = new RoomSocket(data.ws_path, {
  onSnapshot: (snap) => {
    chat.reset(snap.comments);
    loadReports(); // (re)joined: what came in meanwhile
  },
  onEvent,
  onStatus: (status) => (root.dataset.connection = status),
  onError: (frame) => chat.say(frame.detail || msg.msgFailed),
});
const chat = new Chat(region("chat"), {
  userId: data.user ? data.user.id : null,
  note: region("chat-note"),
  actions: lineActions,
});
if (["scheduled", "live"].includes(data.status)) socket.start();
loadReports();
setInterval(loadReports, REPORTS_EVERY_MS);
