// A purchase in the room, worded in the viewer's language from the event's values (the
// server sends one payload to the whole room: realtime/publish.py).
import { t } from "../i18n.js";

export function tickerText(ev) {
  if (!ev.title) return ev.text || "";
  const what = ev.quantity > 1 ? t("quantity_of", { quantity: ev.quantity, title: ev.title }) : ev.title;
  return ev.city ? t("purchase_in", { city: ev.city, what }) : t("purchase", { what });
}
