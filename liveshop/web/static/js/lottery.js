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
    verdict.textContent = "This browser cannot compute SHA-256 here (open the page over https).";
    return;
  }
  const seed = $("seed").textContent.trim();
  const hash = $("hash").textContent.trim();
  if ((await sha256hex(seed)) !== hash) {
    verdict.textContent = "✗ The seed does not match its published fingerprint.";
    verdict.classList.add("is-bad");
    return;
  }
  const rows = [...document.querySelectorAll("[data-entry]")];
  const keyed = await Promise.all(rows.map(async (r) => [await sha256hex(`${seed}:${r.dataset.entry}`), r]));
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const ok = keyed.every(([, r], i) => r.dataset.rank === String(i + 1));
  verdict.textContent = ok
    ? `✓ Checked in your browser: the seed matches its fingerprint and gives this order for all ${rows.length} entries.`
    : "✗ The order below does not follow from the seed.";
  verdict.classList.add(ok ? "is-good" : "is-bad");
}

check();
