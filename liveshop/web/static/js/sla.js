// The seller's support inbox and case page: each open case's SLA timer ticks every second —
// counting down to the first-answer deadline, then up once it is past — from the case's own
// deadline (data-due-at) on the server's clock (data-now: the page's render time).
import { t } from "./i18n.js";

const timers = [...document.querySelectorAll(".sla[data-due-at]")];
const pageNow = Date.parse(timers[0]?.dataset.now || "");
const offset = Number.isNaN(pageNow) ? 0 : pageNow - Date.now(); // server − browser (ms)
const two = (n) => String(n).padStart(2, "0");

function span(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? t("sla_hours_minutes_seconds", { h, m: two(m), s: two(s % 60) }) : t("sla_minutes_seconds", { m, s: two(s % 60) });
}

function tick() {
  const now = Date.now() + offset;
  for (const node of timers) {
    const left = (Date.parse(node.dataset.dueAt) - now) / 1000;
    const state = left >= 0 ? "due" : "overdue";
    node.dataset.sla = state;
    node.textContent = state === "due" ? t("sla_answer_within", { t: span(left) }) : t("sla_overdue_by", { t: span(-left) });
    const row = node.closest(".case-row");
    if (row) {
      row.classList.toggle("sla-due", state === "due");
      row.classList.toggle("sla-overdue", state === "overdue");
    }
  }
}

if (timers.length) {
  tick();
  setInterval(tick, 1000);
}
