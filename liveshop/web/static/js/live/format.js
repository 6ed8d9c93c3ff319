import { t } from "../i18n.js";
// Display helpers. Money arrives as integers in the currency's minor unit (ISO 4217
// exponent from the page); it is turned into a decimal STRING here (no float arithmetic)
// and only Intl.NumberFormat sees it, for display.

// The digits and separators come from Intl in the viewer's locale; the currency sign and
// where it stands (``prefix``/``suffix``) from the server's babel, so "Rp150.000,00" reads
// the same in the page and in the script.
export function moneyFormatter({ locale, currency, exponent, prefix, suffix }) {
  const number = new Intl.NumberFormat(locale, {
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  });
  const fmt =
    prefix === undefined
      ? new Intl.NumberFormat(locale, {
          style: "currency",
          currency,
          minimumFractionDigits: exponent,
          maximumFractionDigits: exponent,
        })
      : { format: (value) => (value.startsWith("-") ? "-" : "") + prefix + number.format(value.replace("-", "")) + suffix };
  return (minor) => {
    if (minor === null || minor === undefined) return "";
    const negative = minor < 0;
    const digits = String(Math.abs(Math.trunc(minor))).padStart(exponent + 1, "0");
    const whole = exponent ? digits.slice(0, -exponent) : digits;
    const fraction = exponent ? `.${digits.slice(-exponent)}` : "";
    return fmt.format(`${negative ? "-" : ""}${whole}${fraction}`);
  };
}

// "1:59:07" / "4:05" / "0:09" until `endsAt`; "" once it has passed.
export function countdownText(endsAt, now = Date.now()) {
  const left = Math.max(0, Math.ceil((endsAt - now) / 1000));
  if (left === 0) return "";
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = String(left % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export function compactCount(n, locale) {
  return new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 }).format(
    n || 0,
  );
}

// 'M · Black' from {size: 'M', colour: 'Black'}; 'Standard' when there is nothing to choose.
export function variantLabel(attributes) {
  const values = Object.values(attributes || {}).filter((v) => v !== null && v !== "");
  return values.length ? values.join(" · ") : t("standard");
}

// 'size & colour' from the attribute names of a product's SKUs, in the page's language.
export function choiceLegend(skus) {
  const names = [];
  for (const sku of skus) {
    for (const key of Object.keys(sku.attributes || {})) if (!names.includes(key)) names.push(key);
  }
  if (!names.length) return t("an_option");
  // An option's name as shoppers say it in this language; else as the seller wrote it.
  const words = names.map((n) => {
    const key = `attr_${n.toLowerCase()}`;
    const named = t(key);
    return named === key ? n.replace(/_/g, " ") : named;
  });
  return words.length > 1 ? `${words.slice(0, -1).join(", ")} & ${words.at(-1)}` : words[0];
}

// The stock bars a page rendered with ``data-pct`` (no inline style attribute under the CSP).
export function fillBars(root = document) {
  for (const bar of root.querySelectorAll("[data-pct]")) bar.style.width = `${bar.dataset.pct}%`;
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    // Through the CSSOM, not the style attribute: the pages' CSP allows no inline styles.
    else if (key === "style") node.style.cssText = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// The API's CSRF value for cookie-authenticated writes (cookie set at login, readable).
export function csrfToken() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("liveshop_csrf="));
  return found ? decodeURIComponent(found.slice("liveshop_csrf=".length)) : "";
}
