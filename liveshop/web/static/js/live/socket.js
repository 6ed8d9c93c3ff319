// The room socket: snapshot first, then batches of events (one JSON array per tick), applied
// strictly in seq order. Reconnects by itself with exponential backoff and resumes from the
// last seq it applied (?since=N); a gap inside a connection asks for the missing events with
// {"type":"resume","seq":N}. The session cookie identifies the viewer (same origin).

const FINAL_CLOSES = new Set([1000, 4401, 4404]); // ended · bad token · no such session
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;

export class RoomSocket {
  /**
   * @param {string} path  e.g. /ws/live/42
   * @param {{onSnapshot: Function, onEvent: Function, onStatus?: Function, onError?: Function}} handlers
   */
  constructor(path, handlers) {
    this.path = path;
    this.handlers = handlers;
    this.seq = 0; // last seq applied (0: no snapshot yet)
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    this.closedForGood = false;
    this.awaitingResume = false;
    this.outbox = []; // comments typed while (re)connecting, sent once the socket opens
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const join = this.path.includes("?") ? "&" : "?";
    const since = this.seq > 0 ? `${join}since=${this.seq}` : "";
    return `${scheme}//${location.host}${this.path}${since}`;
  }

  start() {
    this.connect();
    window.addEventListener("online", () => this.retrySoon(0));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && !this.isOpen()) this.retrySoon(0);
    });
  }

  isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  status(state, detail) {
    if (this.handlers.onStatus) this.handlers.onStatus(state, detail);
  }

  connect() {
    if (this.closedForGood) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.status(this.attempt === 0 && this.seq === 0 ? "connecting" : "reconnecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    this.awaitingResume = false;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.status("open");
      for (const frame of this.outbox.splice(0)) ws.send(JSON.stringify(frame));
    });
    ws.addEventListener("message", (msg) => this.receive(msg.data));
    ws.addEventListener("close", (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (FINAL_CLOSES.has(ev.code)) {
        this.closedForGood = true;
        this.status("closed", ev.code);
        return;
      }
      this.scheduleRetry();
    });
  }

  scheduleRetry() {
    if (this.closedForGood || this.timer !== null) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    this.attempt += 1;
    this.status("reconnecting");
    this.retrySoon(base / 2 + Math.random() * (base / 2)); // jittered: rooms don't stampede
  }

  retrySoon(delayMs) {
    if (this.closedForGood || this.isOpen()) return;
    if (this.ws && this.ws.readyState === WebSocket.CONNECTING) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delayMs);
  }

  // Sends now, or — with queue — once (re)connected (at most a few frames wait).
  send(frame, { queue = false } = {}) {
    if (!this.isOpen()) {
      if (!queue || this.closedForGood || this.outbox.length >= 5) return false;
      this.outbox.push(frame);
      return true;
    }
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  receive(text) {
    let data;
    try {
      data = JSON.parse(text);
    } catch {
      return;
    }
    if (Array.isArray(data)) {
      this.applyBatch(data);
    } else if (data && data.type === "snapshot") {
      this.seq = data.seq || 0;
      this.awaitingResume = false;
      this.handlers.onSnapshot(data);
    } else if (data && data.type === "error" && this.handlers.onError) {
      this.handlers.onError(data);
    } else if (data && data.type === "dashboard" && this.handlers.onDashboard) {
      this.handlers.onDashboard(data); // the creator's live figures (their own sockets only)
    } else if (data && (data.type === "claim_result" || data.type === "pay_result" || data.type === "bid_result" || data.type === "pong" || data.type === "case_opened") && this.handlers.onDirect) {
      this.handlers.onDirect(data); // answers to this socket's own requests (a tap on a drop), and a case opened from its complaint
    }
  }

  applyBatch(events) {
    // Events the server coalesced or sampled away leave holes it vouches for:
    // {"type":"skipped","through":N} ends such a frame.
    const marker = events.find((e) => e && e.type === "skipped");
    const vouched = marker ? marker.through : 0;
    for (const ev of events) {
      if (!ev || ev.type === "skipped" || typeof ev.seq !== "number") continue;
      if (ev.seq <= this.seq) continue; // already applied (a resume overlaps)
      if (ev.seq !== this.seq + 1 && ev.seq > vouched) {
        // A hole nobody explained: ask for everything after our last seq, apply nothing
        // beyond it (the answer repeats these events in order).
        if (!this.awaitingResume && this.seq > 0) {
          this.awaitingResume = this.send({ type: "resume", seq: this.seq });
        }
        if (this.seq > 0) return;
      }
      this.seq = ev.seq;
      this.awaitingResume = false;
      this.handlers.onEvent(ev);
    }
    if (vouched > this.seq) this.seq = vouched;
  }
}
