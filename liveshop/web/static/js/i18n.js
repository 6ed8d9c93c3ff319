// The page's words. Every page renders its scripts' messages, already in the viewer's
// language, into one JSON island (<script type="application/json" id="page-messages">,
// web/js_messages.py); scripts never carry English text of their own.
//   t("sold_out")                         -> "Habis"
//   t("of_left", { left: 3, units: 10 })  -> "Sisa 3 dari 10"   (%(name)s placeholders)
//   tn("hold_minutes", 5)        -> the plural form Intl.PluralRules picks for 5
const island = document.getElementById("page-messages");
const messages = island ? JSON.parse(island.textContent) : {};
const lang = document.documentElement.lang || "en";
let rules;

function fill(text, params) {
  return text.replace(/%\((\w+)\)[sd]/g, (whole, name) => (name in params ? String(params[name]) : whole)).replace(/%%/g, "%");
}

export function t(key, params = {}) {
  const text = messages[key];
  return fill(typeof text === "string" ? text : key, params);
}

export function tn(key, n, params = {}) {
  const forms = messages[key] || {};
  rules = rules || new Intl.PluralRules(lang);
  const text = forms[rules.select(n)] || forms.other || key;
  return fill(text, { num: n, ...params });
}
