"""Server-rendered pages (Jinja2) and their static files.

``install_web(app)`` mounts ``/static`` and registers the page routers. Pages call the
domains' service functions exactly as the API routers do, with the same access
declarations; see ``routing`` (HTML answers to errors) and ``security`` (form CSRF).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def install_web(app: FastAPI) -> None:
    from liveshop.web import (
        pages_account,
        pages_admin,
        pages_buyer,
        pages_chat_filter,
        pages_live,
        pages_moderation,
        pages_seller,
        pages_shop,
        pages_studio,
    )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        pages_shop,
        pages_account,
        pages_buyer,
        pages_seller,
        pages_admin,
        pages_live,
        pages_studio,
        pages_moderation,
        pages_chat_filter,
    ):
        app.include_router(module.router)
