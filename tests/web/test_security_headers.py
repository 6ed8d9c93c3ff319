"""Pages carry a Content-Security-Policy they satisfy (checked in Chromium by
tests/browser/test_csp.py), the other security headers, and hardened cookies; production
refuses the development secret key."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from liveshop.app import create_app
from liveshop.core.db import Database
from liveshop.core.settings import InsecureSettings, Settings, get_settings
from liveshop.web.headers import content_security_policy

TEMPLATES = Path(__file__).resolve().parents[2] / "liveshop" / "web" / "templates"


async def test_pages_and_api_answers_carry_the_security_headers(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/", "/login", "/api/v1/markets", "/static/js/room.js", "/no-such-page"):
        resp = await client.get(path)
        assert resp.headers["x-content-type-options"] == "nosniff", path
        assert resp.headers["x-frame-options"] == "DENY", path
        assert resp.headers["referrer-policy"] == "strict-origin-when-cross-origin", path
        csp = resp.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp, path
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp, path
    assert "strict-transport-security" not in resp.headers  # plain HTTP here


def test_the_video_origin_is_allowed_for_media_and_fetches() -> None:
    s = Settings(
        video_provider="external",
        video_external_playlist_url="https://cdn.example:8443/hls/{stream}/index.m3u8",
    )
    directives = dict(d.split(" ", 1) for d in content_security_policy(s).split("; "))
    assert directives["media-src"] == "'self' blob: https://cdn.example:8443"
    assert directives["connect-src"] == "'self' https://cdn.example:8443"
    assert "https://cdn.example" not in directives["script-src"]


def test_templates_have_no_inline_script_handler_or_style() -> None:
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (template, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert not re.search(r"\sstyle\s*=", text), template
        assert "<style" not in text, template


async def test_cookies_are_http_only_same_site_and_secure_behind_https(
    client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = await client.get("/login")
    assert "httponly" in page.headers["set-cookie"].lower()
    monkeypatch.setenv("LIVESHOP_COOKIE_SECURE", "1")
    get_settings.cache_clear()
    try:
        app = create_app(database=db)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            resp = await c.get("/market/VN")
            for cookie in resp.headers.get_list("set-cookie"):
                low = cookie.lower()
                assert "httponly" in low and "samesite=lax" in low and "; secure" in low, cookie
            assert resp.headers["strict-transport-security"].startswith("max-age=")
            login = await c.get("/login")
            assert "; secure" in login.headers["set-cookie"].lower()
        await app.state.broker.close()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_production_refuses_the_development_secret_key() -> None:
    with pytest.raises(InsecureSettings, match="development secret key"):
        create_app(Settings(environment="production", secret_key="dev-insecure-change-me"))
    with pytest.raises(InsecureSettings, match="at least 32"):
        Settings(environment="production", secret_key="short").refuse_insecure_production()
    Settings(environment="production", secret_key="x" * 40).refuse_insecure_production()


def test_serve_in_production_with_the_development_key_exits_with_a_clear_error() -> None:
    env = {"LIVESHOP_ENV": "production", "LIVESHOP_SECRET_KEY": "dev-insecure-change-me"}
    done = subprocess.run(
        [sys.executable, "-m", "liveshop.cli", "serve", "--port", "18201"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "development secret key" in done.stdout + done.stderr
