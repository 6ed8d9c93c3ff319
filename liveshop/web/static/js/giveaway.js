// A giveaway's record checks itself in the visitor's browser: the revealed seed must hash to
// the fingerprint shown when entries opened, and the published entries must give the winner
// (the algorithm on /giveaways/fairness). The words come from the page.
const $ = (name) => document.querySelector(`[data-giveaway=${name}]`);

async function sha256hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function check() {
  const verdict = $("verdict");
  const msg = verdict.dataset;
  if (!crypto.subtle) {
    verdict.textContent = msg.msgNoCrypto;
    return;
  }
  const seed = $("seed").textContent.trim();
  if ((await sha256hex(seed)) !== $("hash").textContent.trim()) {
    verdict.textContent = msg.msgBadSeed;
    verdict.classList.add("is-bad");
    return;
  }
  const ids = [...document.querySelectorAll("[data-entry]")].map((r) => r.dataset.entry);
  ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const shown = $("winner") ? $("winner").textContent.trim() : null;
  let winner = null;
  if (ids.length) {
    const digest = await sha256hex(`${seed}:${ids.join("\n")}`);
    winner = ids[Number(BigInt(`0x${digest}`) % BigInt(ids.length))];
  }
  const ok = winner === shown;
  verdict.textContent = `${ok ? msg.msgGood : msg.msgBadWinner} ${winner || "—"}`;
  verdict.classList.add(ok ? "is-good" : "is-bad");
  verdict.dataset.computed = winner || "";
}

check();
