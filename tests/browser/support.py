"""Helpers for the browser tests: console watching, logging in, accessibility checks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import ConsoleMessage, Error, Page, expect


@dataclass
class Watch:
    """Collects console errors and uncaught page errors of one page."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", self._pageerror)

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(f"console: {msg.text} ({self.page.url})")

    def _pageerror(self, err: Error) -> None:
        self.errors.append(f"pageerror: {err.message} ({self.page.url})")


def login(page: Page, email: str, password: str, next_path: str = "/") -> None:
    page.goto(f"/login?next={next_path}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".flash-success")).to_contain_text("Welcome back")


ACCESSIBILITY_JS = """
() => {
  const problems = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby');
    if (!named) problems.push('control without a label: ' + el.outerHTML.slice(0, 140));
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('image without alt: ' + img.src);
    const decorative = img.classList.contains('shop-logo') || img.classList.contains('decorative');
    const content = img.src.includes('/static/demo/') && !decorative;
    if (content && !img.alt.trim()) problems.push('product image with empty alt: ' + img.src);
  }
  for (const tag of ['header', 'main', 'nav', 'footer']) {
    if (!document.querySelector(tag)) problems.push('no <' + tag + '> landmark');
  }
  for (const el of document.querySelectorAll('[onclick]:not(button):not(a)')) {
    problems.push('clickable non-button: ' + el.outerHTML.slice(0, 100));
  }
  if (document.querySelectorAll('h1').length !== 1) problems.push('expected exactly one <h1>');
  return problems;
}
"""

CONTRAST_JS = """
(el) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const lum = ({r, g, b}) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const fg = parse(getComputedStyle(el).color);
  let node = el, bg = null;
  while (node && node.nodeType === 1) {
    const c = parse(getComputedStyle(node).backgroundColor);
    if (c && c.a > 0.5) { bg = c; break; }
    node = node.parentElement;
  }
  bg = bg || {r: 255, g: 255, b: 255, a: 1};
  const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
"""


def accessibility_problems(page: Page) -> list[str]:
    result: list[str] = page.evaluate(ACCESSIBILITY_JS)
    return result


def contrast(page: Page, selector: str) -> float:
    """WCAG contrast ratio of the first element matching ``selector`` against its background."""
    value: Any = page.locator(selector).first.evaluate(CONTRAST_JS)
    return float(value)


def fits_width(page: Page, width: int) -> bool:
    """Nothing on the page is wider than ``width`` (no sideways scrolling on a phone)."""
    return bool(page.evaluate("() => document.documentElement.scrollWidth") <= width)


def go_live(creator: Page, title: str, *products: str) -> int:
    """Schedule a show of ``products`` in the studio and go live; the session's id."""
    creator.goto("/studio")
    creator.get_by_label("Title").fill(title)
    for product in products:
        creator.get_by_label(product).check()
    creator.get_by_role("button", name="Schedule show").click()
    expect(creator.locator(".flash-success")).to_contain_text("is scheduled")
    session_id = int(re.findall(r"/studio/sessions/(\d+)", creator.url)[0])
    creator.get_by_role("button", name="Go live").click()
    expect(creator.locator(".flash-success")).to_contain_text("You are live")
    return session_id


def fill_flash_deal(
    creator: Page,
    sku_id: int,
    price: str,
    units: int,
    *,
    per_buyer: int | None = None,
    policy: str | None = None,
) -> None:
    """Fill the studio's flash-deal form (the caller starts it: it may check the form first).
    ``policy``: the start of the radio's label ("Queue", "Hold then pay"…)."""
    creator.get_by_label("Product and option").select_option(value=str(sku_id))
    creator.get_by_label("Deal price (GBP)").fill(price)
    creator.get_by_label("Units").fill(str(units))
    if per_buyer is not None:
        creator.get_by_label(re.compile(r"^Per buyer")).fill(str(per_buyer))
    if policy is not None:
        creator.get_by_role("radio", name=re.compile(rf"^{re.escape(policy)}")).check()


WIDE_JS = """
(width) => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    let clipped = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (style.overflowX !== 'visible') { clipped = true; break; }
    }
    if (!clipped && box.right > width + 1) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + el.className;
      out.push(name + ' → ' + Math.round(box.right));
    }
  }
  return out.slice(0, 10);
}
"""


def assert_no_sideways_scroll(page: Page, width: int = 390) -> None:
    """The page is no wider than the phone (``scrollWidth <= width``), naming what sticks out."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        raise AssertionError(
            f"{page.url} is {scroll_width} px wide at {width} px: {page.evaluate(WIDE_JS, width)}"
        )
