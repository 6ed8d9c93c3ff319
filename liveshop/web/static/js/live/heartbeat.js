// The verifiable audience (see /analytics/method): while this tab is visible AND the video is
// playing, the player tells the room so every `intervalMs` over the room's own socket:
// {"type":"hb","visible":true,"playing":true,"vid":"…"}. An open tab in the background, a
// paused or a stopped video count nothing. `vid` is this browser's own random id (kept in
// localStorage), so a signed-out viewer is counted once however many tabs they open; the
// server only ever keeps a keyed hash of it.

const KEY = "liveshop-player-id";

export function playerId() {
  try {
    let id = localStorage.getItem(KEY);
    if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
      const bytes = new Uint8Array(12);
      crypto.getRandomValues(bytes);
      id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem(KEY, id);
    }
    return id;
  } catch {
    return null; // storage refused: signed-in viewers are still counted by their account
  }
}

export function isPlaying(video) {
  return Boolean(video) && !video.paused && !video.ended && video.readyState >= 2;
}

export class Heartbeat {
  constructor(send, video, intervalMs = 15000) {
    this.send = send;
    this.video = video;
    this.intervalMs = intervalMs;
    this.vid = playerId();
    this.timer = null;
  }

  beat() {
    const visible = document.visibilityState === "visible";
    const playing = isPlaying(this.video);
    if (!visible || !playing) return false;
    const frame = { type: "hb", visible, playing };
    if (this.vid) frame.vid = this.vid;
    return this.send(frame);
  }

  start() {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    if (this.video) this.video.addEventListener("playing", () => this.beat(), { once: true });
  }
}
