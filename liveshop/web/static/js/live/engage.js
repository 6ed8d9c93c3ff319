// The room's giveaway, poll and questions (Q&A), for viewers (room.js) and hosts (studio.js).
// The server decides everything; these show what the room's events say and call the API.
// Every word shown comes from the page (`msgs`, the template's translated strings).
import { countdownText, csrfToken, el } from "./format.js";

export function fmt(text, vars = {}) {
  return String(text || "").replace(/\{(\w+)\}/g, (_m, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

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
  const answer = await resp.json().catch(() => ({}));
  const code = (answer.type || "").split("/").pop();
  return { ok: resp.ok, status: resp.status, body: answer, code };
}

// --- the giveaway -----------------------------------------------------------------------

export class GiveawayCard {
  constructor(region, { msgs, user, host }) {
    this.region = region;
    this.msgs = msgs;
    this.user = user;
    this.host = host;
    this.g = null;
    this.mine = null; // my entry's public id
    this.order = null; // my prize's order
    this.note = "";
    this.busy = false;
  }

  snapshot(g) {
    const before = this.g ? this.g.giveaway_id : null;
    this.g = g ? { ...g } : null;
    if (this.g && this.g.giveaway_id !== before) this.lookUp();
    this.render();
  }

  onEvent(ev) {
    if (ev.type === "giveaway_entries") {
      if (this.g && this.g.giveaway_id === ev.giveaway_id) {
        this.g.entries = Math.max(this.g.entries || 0, ev.entries || 0);
      }
    } else {
      const fresh = !this.g || this.g.giveaway_id !== ev.giveaway.giveaway_id;
      this.g = { ...ev.giveaway, entries: Math.max(ev.giveaway.entries || 0, fresh ? 0 : this.g.entries || 0) };
      if (fresh) {
        this.mine = null;
        this.note = "";
      }
      if (ev.type === "giveaway_drawn" && this.user && this.g.winner_id === this.user.id) this.lookUp();
    }
    this.render();
  }

  // What only I may know: my entry, my prize's order.
  async lookUp() {
    if (!this.user || !this.g) return;
    const got = await call("GET", `/api/v1/live/giveaways/${this.g.giveaway_id}`).catch(() => null);
    if (got && got.ok && this.g && got.body.giveaway_id === this.g.giveaway_id) {
      this.mine = got.body.your_entry;
      this.order = got.body.order_id;
      this.g.terms = got.body.terms;
      this.render();
    }
  }

  async enter() {
    if (!this.g || this.busy) return;
    this.busy = true;
    const got = await call("POST", `/api/v1/live/giveaways/${this.g.giveaway_id}/entries`).catch(() => null);
    this.busy = false;
    const m = this.msgs;
    if (got && got.ok) {
      this.mine = got.body.public_id;
      this.g.entries = Math.max(this.g.entries || 0, got.body.entries);
      this.note = "";
    } else if (got && got.code === "already-entered") {
      this.mine = got.body.public_id || this.mine;
      this.note = m.err_already_entered;
    } else if (got && got.code === "not-eligible") {
      this.note = got.body.eligibility === "buyers" ? m.err_not_buyer : m.err_not_follower;
    } else {
      const words = {
        "address-required": m.err_address_required,
        "giveaway-closed": m.err_closed,
        "host-cannot-enter": m.err_host,
      };
      this.note = (got && words[got.code]) || (got && got.body.detail) || m.err_generic;
    }
    this.render();
  }

  async host_(action) {
    if (!this.g || this.busy) return;
    this.busy = true;
    this.render();
    const got = await call("POST", `/api/v1/live/giveaways/${this.g.giveaway_id}/${action}`).catch(() => null);
    this.busy = false;
    if (got && got.ok) {
      this.g = { ...this.g, ...got.body };
      this.note = "";
    } else {
      this.note = (got && got.body.detail) || this.msgs.err_generic;
    }
    this.render();
  }

  tick() {
    const node = this.region.querySelector(".giveaway-timer");
    if (!node || !this.g || this.g.status !== "open") return;
    const left = countdownText(Date.parse(this.g.closes_at));
    node.textContent = left ? fmt(this.msgs.closes_in, { t: left }) : this.msgs.closed;
  }

  render() {
    const g = this.g;
    const m = this.msgs;
    this.region.hidden = !g;
    if (!g) return this.region.replaceChildren();
    const open = g.status === "open";
    const closed = open && Date.parse(g.closes_at) <= Date.now();
    const elig = { room: m.elig_room, followers: m.elig_followers, buyers: m.elig_buyers }[g.eligibility] || "";
    const lines = [
      el("p", { class: "engage-kicker" }, el("span", { class: "engage-badge giveaway-badge", text: m.giveaway_badge }), " ", el("span", { class: "muted", text: elig })),
      el("p", { class: "engage-title", text: g.title }),
      el(
        "p",
        { class: "giveaway-figures" },
        el("span", { class: "giveaway-entries", text: fmt(m.entries, { n: g.entries || 0 }) }),
        open ? " · " : "",
        open ? el("span", { class: "giveaway-timer", role: "timer" }) : null,
      ),
    ];
    if (g.status === "drawn") {
      const me = this.user && g.winner_id === this.user.id;
      if (!g.winner_entry) lines.push(el("p", { class: "giveaway-result", text: m.no_entries }));
      else if (me) {
        lines.push(
          el(
            "p",
            { class: "giveaway-result is-me" },
            this.order ? fmt(m.won, { order: this.order }) : m.won_pending,
            this.order ? el("a", { href: `/orders/${this.order}`, class: "giveaway-order", text: ` ${m.view_order}` }) : null,
          ),
        );
      } else lines.push(el("p", { class: "giveaway-result", text: fmt(m.winner, { name: g.winner_name || "?" }) }));
      if (g.seed) lines.push(el("p", { class: "giveaway-seed small muted", text: fmt(m.seed, { seed: g.seed }) }));
    } else if (g.status === "cancelled") {
      lines.push(el("p", { class: "giveaway-result", text: m.cancelled }));
    }
    lines.push(el("p", { class: "giveaway-hash small muted", text: fmt(m.seed_hash, { hash: g.seed_sha256 }) }));
    if (this.mine) lines.push(el("p", { class: "giveaway-mine", text: fmt(m.entered, { id: this.mine }) }));
    let actions = null;
    if (this.host && open) {
      actions = el(
        "div",
        { class: "engage-actions" },
        el("button", { type: "button", class: "btn btn-primary giveaway-draw", disabled: this.busy, text: m.draw, onclick: () => this.host_("draw") }),
        el("button", { type: "button", class: "btn btn-danger-ghost", disabled: this.busy, text: m.call_off, onclick: () => this.host_("cancel") }),
      );
    } else if (open && !closed && !this.mine && !this.host) {
      actions = this.user
        ? el("button", { type: "button", class: "btn btn-primary giveaway-enter", disabled: this.busy, text: m.enter, onclick: () => this.enter() })
        : el("a", { class: "btn btn-primary", href: m.login_url, text: m.login_to_enter });
    }
    const links = el(
      "p",
      { class: "small engage-links" },
      el("a", { href: g.record_url, text: m.check_draw }),
    );
    this.region.replaceChildren(
      el(
        "article",
        { class: `engage-card giveaway-card is-${g.status}`, dataset: { giveawayId: g.giveaway_id } },
        ...lines,
        actions,
        this.note ? el("p", { class: "engage-note", role: "status", text: this.note }) : null,
        links,
      ),
    );
    this.tick();
  }
}

// --- the poll ------------------------------------------------------------------------------

export class PollCard {
  constructor(region, { msgs, user, host, sessionId }) {
    this.region = region;
    this.msgs = msgs;
    this.user = user;
    this.host = host;
    this.sessionId = sessionId;
    this.p = null;
    this.mine = null;
    this.note = "";
  }

  snapshot(p) {
    const before = this.p ? this.p.poll_id : null;
    this.p = p ? { ...p } : null;
    if (this.p && this.p.poll_id !== before) {
      this.mine = null;
      if (this.user) this.lookUp();
    }
    this.render();
  }

  onEvent(ev) {
    if (ev.type === "poll_votes") {
      if (this.p && this.p.poll_id === ev.poll_id && this.p.open && (ev.total || 0) >= (this.p.total || 0)) {
        this.p.counts = ev.counts;
        this.p.total = ev.total;
      }
    } else {
      const fresh = !this.p || this.p.poll_id !== ev.poll.poll_id;
      this.p = { ...ev.poll };
      if (fresh) {
        this.mine = null;
        this.note = "";
      }
    }
    this.render();
  }

  async lookUp() {
    const got = await call("GET", `/api/v1/live/sessions/${this.sessionId}/poll`).catch(() => null);
    if (got && got.ok && this.p && got.body.poll_id === this.p.poll_id) {
      this.mine = got.body.your_vote;
      if (got.body.counts && got.body.total >= (this.p.total || 0)) {
        this.p.counts = got.body.counts;
        this.p.total = got.body.total;
      }
      this.render();
    }
  }

  async vote(option) {
    const got = await call("POST", `/api/v1/live/polls/${this.p.poll_id}/votes`, { option }).catch(() => null);
    if (got && got.ok) {
      this.mine = option;
      this.p.counts = got.body.counts;
      this.p.total = got.body.total;
      this.note = "";
    } else if (got && got.code === "already-voted") {
      this.note = this.msgs.err_voted;
      this.lookUp();
    } else {
      this.note = (got && got.body.detail) || this.msgs.err_generic;
    }
    this.render();
  }

  async close() {
    const got = await call("POST", `/api/v1/live/polls/${this.p.poll_id}/close`).catch(() => null);
    if (got && got.ok) this.p = { ...this.p, ...got.body };
    this.render();
  }

  render() {
    const p = this.p;
    const m = this.msgs;
    this.region.hidden = !p;
    if (!p) return this.region.replaceChildren();
    const results = this.host || this.mine !== null || !p.open;
    const total = p.total || 0;
    const options = p.options.map((text, i) => {
      const n = (p.counts || [])[i] || 0;
      const pct = total ? Math.round((n * 100) / total) : 0;
      const label = [el("span", { class: "poll-text", text }), results ? el("span", { class: "poll-pct", text: `${pct}% · ${n}` }) : null];
      const bar = results ? el("span", { class: "poll-bar", "aria-hidden": "true" }, el("span", { style: `width: ${pct}%` })) : null;
      const chosen = this.mine === i;
      if (!results && p.open && this.user && !this.host) {
        return el("li", {}, el("button", { type: "button", class: "poll-option", onclick: () => this.vote(i) }, ...label));
      }
      return el("li", { class: `poll-result${chosen ? " is-mine" : ""}` }, ...label, bar);
    });
    const foot = [];
    if (!p.open) foot.push(el("p", { class: "small muted", text: m.poll_closed }));
    else if (!this.user && !this.host) foot.push(el("a", { class: "small", href: m.login_url, text: m.login_to_vote }));
    if (this.host && p.open) {
      foot.push(el("button", { type: "button", class: "btn btn-secondary btn-sm poll-close", text: m.close_poll, onclick: () => this.close() }));
    }
    this.region.replaceChildren(
      el(
        "article",
        { class: `engage-card poll-card${p.open ? "" : " is-closed"}`, dataset: { pollId: p.poll_id } },
        el("p", { class: "engage-kicker" }, el("span", { class: "engage-badge poll-badge", text: m.poll_badge }), " ", el("span", { class: "muted poll-total", text: fmt(m.votes, { n: total }) })),
        el("p", { class: "engage-title", text: p.question }),
        el("ul", { class: "poll-options" }, ...options),
        ...foot,
        this.note ? el("p", { class: "engage-note", role: "status", text: this.note }) : null,
      ),
    );
  }
}

// --- questions (Q&A) -----------------------------------------------------------------------

export class Questions {
  // `list`: where the questions go; `banner`: "answering now" for everyone; `form`: ask.
  constructor({ list, banner, form, count }, { msgs, user, host, sessionId }) {
    this.list = list;
    this.banner = banner;
    this.form = form;
    this.count = count;
    this.msgs = msgs;
    this.user = user;
    this.host = host;
    this.sessionId = sessionId;
    this.items = new Map(); // id → question
    this.answering = null;
    this.note = "";
    if (form) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.ask();
      });
    }
  }

  async load() {
    const got = await call("GET", `/api/v1/live/sessions/${this.sessionId}/questions`).catch(() => null);
    if (!got || !got.ok) return;
    for (const q of got.body) this.items.set(q.question_id, { ...(this.items.get(q.question_id) || {}), ...q });
    this.render();
  }

  snapshot(answering) {
    this.answering = answering || null;
    this.load();
    this.render();
  }

  onEvent(ev) {
    if (ev.type === "question_votes") {
      const q = this.items.get(ev.question_id);
      if (q) q.votes = Math.max(q.votes || 0, ev.votes || 0);
    } else {
      const q = ev.question;
      const known = this.items.get(q.question_id) || {};
      this.items.set(q.question_id, { ...known, ...q, votes: Math.max(known.votes || 0, q.votes || 0) });
      if (ev.type === "question_status") {
        if (q.status === "answering") this.answering = q;
        else if (this.answering && this.answering.question_id === q.question_id) this.answering = null;
      }
    }
    this.render();
  }

  async ask() {
    const input = this.form.querySelector("input[name=text]");
    const text = input.value.trim();
    if (!text) return;
    const got = await call("POST", `/api/v1/live/sessions/${this.sessionId}/questions`, { text }).catch(() => null);
    const m = this.msgs;
    if (got && got.ok) {
      input.value = "";
      this.items.set(got.body.question_id, got.body);
      this.note = "";
    } else {
      const words = { muted: m.err_muted, "too-many-questions": m.err_too_many };
      this.note = (got && words[got.code]) || (got && got.body.detail) || m.err_generic;
    }
    this.render();
  }

  async upvote(q) {
    const got = await call("POST", `/api/v1/live/questions/${q.question_id}/upvotes`).catch(() => null);
    if (got && (got.ok || got.code === "already-upvoted")) {
      q.voted = true;
      if (got.ok) q.votes = Math.max(q.votes || 0, got.body.votes);
      this.note = "";
    } else {
      this.note = (got && got.body.detail) || this.msgs.err_generic; // e.g. 429 rate-limited
    }
    this.render();
  }

  async mark(q, status) {
    const got = await call("POST", `/api/v1/live/questions/${q.question_id}/status`, { status }).catch(() => null);
    if (got && got.ok) this.onEvent({ type: "question_status", question: got.body });
  }

  render() {
    const m = this.msgs;
    if (this.banner) {
      const a = this.answering;
      this.banner.hidden = !a;
      this.banner.replaceChildren(
        ...(a ? [el("span", { class: "engage-badge", text: m.answering_now }), " ", el("span", { class: "answering-text", text: a.text }), " ", el("span", { class: "muted small", text: a.author ? `— ${a.author}` : "" })] : []),
      );
    }
    const waiting = [...this.items.values()].filter((q) => q.status !== "answered");
    waiting.sort((a, b) => (b.votes || 0) - (a.votes || 0) || a.question_id - b.question_id);
    const done = [...this.items.values()].filter((q) => q.status === "answered");
    if (this.count) this.count.textContent = String(waiting.length);
    if (!this.list) return;
    const row = (q) => {
      const mine = this.user && q.user_id === this.user.id;
      const actions = [];
      if (this.host) {
        if (q.status === "open") actions.push(el("button", { type: "button", class: "btn btn-secondary btn-sm", text: m.answer_now, onclick: () => this.mark(q, "answering") }));
        if (q.status !== "answered") actions.push(el("button", { type: "button", class: "btn btn-ghost btn-sm", text: m.mark_answered, onclick: () => this.mark(q, "answered") }));
      } else if (this.user && !mine && q.status !== "answered") {
        actions.push(
          el("button", {
            type: "button",
            class: `btn btn-ghost btn-sm question-upvote${q.voted ? " is-voted" : ""}`,
            disabled: !!q.voted,
            "aria-pressed": q.voted ? "true" : "false",
            text: q.voted ? m.upvoted : m.upvote,
            onclick: () => this.upvote(q),
          }),
        );
      }
      return el(
        "li",
        { class: `question is-${q.status}`, dataset: { questionId: q.question_id } },
        el("span", { class: "question-votes", text: `▲ ${q.votes || 0}` }),
        el("span", { class: "question-body" }, el("span", { class: "question-text", text: q.text }), el("span", { class: "muted small", text: [q.author || "", q.status === "answering" ? m.answering_now : q.status === "answered" ? m.answered : ""].filter(Boolean).join(" · ") })),
        el("span", { class: "question-actions" }, ...actions),
      );
    };
    const rows = [...waiting, ...done].map(row);
    this.list.replaceChildren(...(rows.length ? rows : [el("li", { class: "muted small", text: m.no_questions })]));
    const note = this.form ? this.form.querySelector("[data-engage=note]") : null;
    if (note) {
      note.textContent = this.note;
      note.hidden = !this.note;
    }
  }
}

export function isEngagement(type) {
  return type.startsWith("giveaway_") || type.startsWith("poll_") || type.startsWith("question_");
}

// One object for a page: the three parts, fed by the socket's snapshot and events.
export class Engagement {
  constructor(root, { msgs, user, host, sessionId }) {
    const part = (name) => root.querySelector(`[data-engage=${name}]`);
    const opts = { msgs, user, host, sessionId };
    this.giveaway = new GiveawayCard(part("giveaway"), opts);
    this.poll = new PollCard(part("poll"), opts);
    this.questions = new Questions(
      { list: part("questions"), banner: part("answering"), form: part("ask"), count: part("question-count") },
      opts,
    );
  }

  snapshot(snap) {
    this.giveaway.snapshot(snap.giveaway);
    this.poll.snapshot(snap.poll);
    this.questions.snapshot(snap.answering);
  }

  onEvent(ev) {
    if (ev.type.startsWith("giveaway_")) this.giveaway.onEvent(ev);
    else if (ev.type.startsWith("poll_")) this.poll.onEvent(ev);
    else this.questions.onEvent(ev);
  }

  tick() {
    this.giveaway.tick();
  }
}
