import { t } from "./i18n.js";
// A lottery record checks itself in the visitor's browser: the revealed seed must hash to the
// fingerprint published before any entry, and the draw's order must follow from the seed.
const $ = (name) => document.querySelector(`[data-lottery=${name}]`);

async function sha256hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function check() {
  const verdict = $("verdict");
  if (!crypto.subtle) {
    verdict.textContent = t("this_browser_cannot_compute_sha_256_here");
    return;
  }
  const seed = $("seed").textContent.trim();
  const hash = $("hash").textContent.trim();
  if ((await sha256hex(seed)) !== hash) {
    verdict.textContent = t("the_seed_does_not_match_its_published_fi");
    verdict.classList.add("is-bad");
    return;
  }
  const rows = [...document.querySelectorAll("[data-entry]")];
  const keyed = await Promise.all(rows.map(async (r) => [await sha256hex(`${seed}:${r.dataset.entry}`), r]));
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const ok = keyed.every(([, r], i) => r.dataset.rank === String(i + 1));
  verdict.textContent = ok
    ? t("checked_in_your_browser_the_seed_matches", { rows: rows.length })
    : t("the_order_below_does_not_follow_from_the");
  verdict.classList.add(ok ? "is-good" : "is-bad");
}

check();
