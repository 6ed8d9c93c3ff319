// The room's video: HLS through hls.js (vendored in /static/vendor), or the browser's own HLS
// where there are no Media Source Extensions (older iPhones). Until the stream is receiving — or when video is not installed —
// the styled "starting soon" panel stays. The playlist is only requested once the video API
// (or a "video" room event) says there is one, so a room without video makes no 404s.

const HLS_MODULE = "/static/vendor/hls.min.mjs";
const RETRY_MS = 4000;
const FIRST_SEGMENT_MS = 3000; // nginx-rtmp writes index.m3u8 after its first 1 s fragment

export class RoomVideo {
  constructor(root, { api, status }) {
    this.root = root;
    this.api = api;
    this.status = status;
    this.video = root.querySelector("video");
    this.panel = root.querySelector("[data-region=video-placeholder]");
    this.note = root.querySelector("[data-region=video-note]");
    this.sound = root.querySelector("[data-region=sound]");
    this.hls = null;
    this.url = null;
    this.pending = null;
    if (this.sound) {
      this.sound.addEventListener("click", () => {
        this.video.muted = !this.video.muted;
        this.sound.setAttribute("aria-pressed", String(!this.video.muted));
        this.sound.querySelector("span").textContent = this.video.muted ? "Tap for sound" : "Sound on";
        if (!this.video.muted) this.video.play().catch(() => {});
      });
    }
  }

  async start() {
    let info;
    try {
      const resp = await fetch(this.api, { headers: { Accept: "application/json" } });
      if (!resp.ok) return; // video is not installed here: keep the panel
      info = await resp.json();
    } catch {
      return;
    }
    if (info.state && info.poster_url) this.video.poster = info.poster_url;
    const ended = ["ended", "cancelled"].includes(info.session_status);
    if (ended && info.replay_url) this.play(info.replay_url, { live: false });
    else if (info.state === "receiving" && info.playlist_url) this.play(info.playlist_url);
    else if (info.state === "reconnecting") this.say("The creator's video is reconnecting…");
  }

  // A "video" room event: {state: receiving|reconnecting|ended, playlist_url?, poster_url?}
  onEvent(ev) {
    if (ev.state === "receiving" && ev.playlist_url) {
      // The encoder has just connected: the media server writes the playlist with its first
      // segment, a moment later. Asking sooner would only earn a 404.
      clearTimeout(this.pending);
      this.say("Video starting…");
      this.pending = setTimeout(() => {
        this.say("");
        this.play(ev.playlist_url);
      }, FIRST_SEGMENT_MS);
    } else if (ev.state === "reconnecting") {
      this.say("The creator's video is reconnecting…");
    } else if (ev.state === "ended") {
      clearTimeout(this.pending);
      this.stop();
    }
  }

  say(text) {
    if (!this.note) return;
    this.note.textContent = text;
    this.note.hidden = !text;
  }

  showing(playing) {
    this.video.hidden = !playing;
    this.panel.hidden = playing;
    if (this.sound) this.sound.hidden = !playing;
    this.root.classList.toggle("has-video", playing);
  }

  async play(url, { live = true } = {}) {
    if (this.url === url) return;
    this.stop();
    this.url = url;
    this.video.muted = true; // autoplay is allowed muted; the sound button unmutes
    // hls.js wherever Media Source Extensions exist (it handles live edge and errors the same
    // everywhere); the browser's own HLS only without them (older iPhones).
    let Hls = null;
    if (window.MediaSource || window.ManagedMediaSource) {
      try {
        ({ default: Hls } = await import(HLS_MODULE));
      } catch {
        Hls = null;
      }
      if (this.url !== url) return; // another play() or stop() came meanwhile
    }
    if (!Hls || !Hls.isSupported()) {
      if (this.video.canPlayType("application/vnd.apple.mpegurl")) {
        this.video.src = url;
        this.video.addEventListener("loadedmetadata", () => this.showing(true), { once: true });
        this.video.play().catch(() => {});
      } else {
        this.url = null;
      }
      return;
    }
    const hls = new Hls({ lowLatencyMode: live, liveSyncDurationCount: 3, debug: false });
    this.hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      this.showing(true);
      this.video.play().catch(() => {});
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      this.stop();
      this.say("Video paused — trying again…");
      setTimeout(() => {
        this.say("");
        this.start();
      }, RETRY_MS);
    });
    hls.loadSource(url);
    hls.attachMedia(this.video);
  }

  stop() {
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
    this.url = null;
    this.video.removeAttribute("src");
    this.showing(false);
  }
}
