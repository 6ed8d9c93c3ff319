import { t } from "../i18n.js";
// The room's video: HLS through hls.js (vendored in /static/vendor), or the browser's own HLS
// where there are no Media Source Extensions (older iPhones). Until the stream is receiving — or
// when video is not installed — the styled "starting soon" panel stays. The playlist is only
// requested once the video API (or a "video" room event) says there is one, so a room without
// video makes no 404s.
//
// Live, the player holds close to the newest segment (see TUNINGS) and speeds up a little to
// catch up after a stall. A media error (a segment the decoder chokes on) is recovered in
// place; only a player that cannot recover is rebuilt, with a growing pause.
//
// The playlists carry EXT-X-PROGRAM-DATE-TIME: ``streamTimeMs()`` is the wall-clock time at
// which the picture now on screen reached the media server. The room uses it to show pins and
// deals when this viewer's picture gets to them (room.js, "the shelf in step").

const HLS_MODULE = "/static/vendor/hls.min.mjs";
const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 30000;
const PLAYLIST_POLL_MS = 500; // the playlist appears with the first segment (≈ 1 keyframe in)
const PLAYLIST_WAIT_MS = 30000;

// hls.js settings. "live" is what viewers get; "baseline" is the player before issue 17,
// kept so `liveshop bench video-latency` can measure both in one run (it sets
// window.LIVESHOP_PLAYER_TUNING = "baseline" before the page loads).
const H17 = {
  lowLatencyMode: false, // no blocking playlist reload: the playlist is polled
  liveSyncDuration: 1.2, // seconds behind the newest segment's end
  liveMaxLatencyDuration: 5, // further behind than this: jump forward
  maxLiveSyncPlaybackRate: 1.2, // … or catch up by playing up to 20 % faster
  maxBufferLength: 10,
  backBufferLength: 30,
  manifestLoadingMaxRetry: 4,
  levelLoadingMaxRetry: 6,
  fragLoadingMaxRetry: 6,
};

const { liveSyncDuration: _sync, liveMaxLatencyDuration: _max, ...LIVE_BASE } = H17;

export const TUNINGS = {
  // The app answers blocking playlist reloads (LL-HLS's _HLS_msn, without parts): with
  // lowLatencyMode hls.js asks for the next segment's playlist at once and hears of it the
  // moment nginx-rtmp closes it, instead of at its next poll (up to a segment later).
  // Held 1.3 segments behind the edge (1.3 s with 1-s keyframes, 2.6 s with OBS's 2 s): a
  // new segment arrives before the buffer runs out, whatever the keyframe interval.
  live: {
    ...LIVE_BASE,
    lowLatencyMode: true,
    liveSyncDurationCount: 1.3,
    liveMaxLatencyDurationCount: 3,
  },
  h17: H17, // the first issue-17 tuning, for `bench video-latency --baseline-tuning h17`
  baseline: { lowLatencyMode: true, liveSyncDurationCount: 3 },
};

function tuning(live) {
  if (!live) return {};
  const chosen = window.LIVESHOP_PLAYER_TUNING || "live";
  // An object: the live settings with these changed (tests: a viewer far behind).
  // (in seconds: hls.js refuses counts mixed with durations)
  if (typeof chosen === "object") return { ...H17, lowLatencyMode: true, ...chosen };
  return TUNINGS[chosen] || TUNINGS.live;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
    this.live = false;
    this.generation = 0; // bumped by every play()/stop(): stale waits and retries give up
    this.retryMs = RETRY_MIN_MS;
    this.retryTimer = null;
    this.recovered = { media: 0, swap: 0 };
    this.onPlaying = null; // (RoomVideo) => void, when a picture first moves
    if (this.sound) {
      this.sound.addEventListener("click", () => {
        this.video.muted = !this.video.muted;
        this.sound.setAttribute("aria-pressed", String(!this.video.muted));
        this.sound.querySelector("span").textContent = this.video.muted ? t("tap_for_sound") : t("sound_on");
        if (!this.video.muted) this.video.play().catch(() => {});
      });
    }
    this.video.addEventListener("timeupdate", () => {
      const at = this.streamTimeMs();
      if (at !== null) this.root.dataset.streamTime = String(at);
    });
    this.video.addEventListener("playing", () => {
      this.retryMs = RETRY_MIN_MS;
      this.root.dataset.videoState = "playing";
      this.say("");
      if (this.onPlaying) this.onPlaying(this);
    });
  }

  async start() {
    let info;
    try {
      const resp = await fetch(this.api, { headers: { Accept: "application/json" } });
      if (!resp.ok) return; // video is not installed here: keep the panel
      info = await resp.json();
    } catch {
      this.retryLater();
      return;
    }
    if (info.state && info.poster_url) this.video.poster = info.poster_url;
    const ended = ["ended", "cancelled"].includes(info.session_status);
    if (ended && info.replay_url) this.play(info.replay_url, { live: false });
    else if (info.state === "receiving" && info.playlist_url) {
      if (info.playlist_ready) this.play(info.playlist_url);
      else this.whenReady(info.playlist_url);
    }
    else if (info.state === "reconnecting") this.say(t("the_creator_s_video_is_reconnecting"));
  }

  // A "video" room event: {state: receiving|reconnecting|ended, playlist_url?, poster_url?}
  onEvent(ev) {
    if (ev.state === "receiving" && ev.playlist_url) {
      if (this.url === ev.playlist_url && this.hls) {
        this.say(""); // the encoder is back: the same playlist goes on (after a discontinuity)
        return;
      }
      this.say(t("video_starting"));
      this.whenReady(ev.playlist_url);
    } else if (ev.state === "reconnecting") {
      this.say(t("the_creator_s_video_is_reconnecting"));
    } else if (ev.state === "ended") {
      // The replay is written. A live player reads it through the same playlist (which now
      // ends); one that was not playing loads it.
      this.say("");
      if (!this.hls) this.start();
    }
  }

  // The media server writes the playlist with its first segment: ask the video API until it
  // says the playlist is there, rather than guessing how long the first keyframe takes.
  async whenReady(url) {
    const generation = ++this.generation;
    const until = Date.now() + PLAYLIST_WAIT_MS;
    while (Date.now() < until) {
      try {
        const resp = await fetch(this.api, { headers: { Accept: "application/json" } });
        const info = resp.ok ? await resp.json() : {};
        if (info.playlist_ready) break;
        if (info.state === "ended") {
          if (generation === this.generation) this.start();
          return;
        }
      } catch {
        // not yet
      }
      await sleep(PLAYLIST_POLL_MS);
      if (generation !== this.generation) return;
    }
    if (generation !== this.generation) return;
    this.play(url);
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

  // Wall-clock ms at which the frame on screen reached the media server (null: unknown).
  streamTimeMs() {
    const date = this.hls && this.hls.playingDate;
    return date ? date.getTime() : null;
  }

  // Seconds into a replay (chips of the product timeline seek with this).
  seek(seconds) {
    if (!Number.isFinite(seconds)) return;
    this.video.currentTime = Math.max(0, seconds);
    this.video.play().catch(() => {});
  }

  async play(url, { live = true } = {}) {
    if (this.url === url && this.hls) return;
    this.stop();
    const generation = this.generation;
    this.url = url;
    this.live = live;
    this.root.dataset.videoState = "loading";
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
      if (generation !== this.generation) return; // another play() or stop() came meanwhile
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
    const hls = new Hls({ debug: false, ...tuning(live) });
    this.hls = hls;
    this.recovered = { media: 0, swap: 0 };
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      this.showing(true);
      this.video.play().catch(() => {});
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal || hls !== this.hls) return;
      const now = performance.now();
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        // hls.js's own recovery: rebuild the media buffers in place, then try the other
        // audio codec flavour; only then start over.
        if (now - this.recovered.media > 3000) {
          this.recovered.media = now;
          hls.recoverMediaError();
          return;
        }
        if (now - this.recovered.swap > 3000) {
          this.recovered.swap = now;
          hls.swapAudioCodec();
          hls.recoverMediaError();
          return;
        }
      }
      this.stop();
      this.say(t("video_paused_trying_again"));
      this.retryLater();
    });
    hls.loadSource(url);
    hls.attachMedia(this.video);
  }

  retryLater() {
    clearTimeout(this.retryTimer);
    const generation = this.generation;
    this.retryTimer = setTimeout(() => {
      if (generation !== this.generation) return;
      this.start();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  stop() {
    this.generation += 1;
    clearTimeout(this.retryTimer);
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
    this.url = null;
    this.video.removeAttribute("src");
    this.root.dataset.videoState = "stopped";
    this.showing(false);
  }
}
