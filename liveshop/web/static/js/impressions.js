// The funnel's first stage, "reached": the shows whose cards this page showed, told once per
// page view (anonymous viewers by their player id, signed-in ones by their account).
import { csrfToken } from "./live/format.js";
import { playerId } from "./live/heartbeat.js";

const ids = [...new Set([...document.querySelectorAll("[data-session-id]")].map((a) => Number(a.dataset.sessionId)))]
  .filter((n) => Number.isInteger(n) && n > 0)
  .slice(0, 50);
if (ids.length) {
  const body = { session_ids: ids };
  const vid = playerId();
  if (vid) body.vid = vid;
  fetch("/api/v1/analytics/impressions", {
    method: "POST",
    headers: { "content-type": "application/json", "X-CSRF-Token": csrfToken() || "" },
    body: JSON.stringify(body),
    keepalive: true,
  }).catch(() => {});
}
