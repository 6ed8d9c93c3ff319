"""``/healthz``: is the database answering? (Beside the app, not in ``core``: it declares who is
asking through ``accounts``, like every endpoint, and ``core`` imports no domain.)"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from liveshop.accounts.deps import MaybePrincipal
from liveshop.core.db import Database
from liveshop.core.errors import problem_response
from liveshop.core.i18n import gettext

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=None)
async def healthz(request: Request, _: MaybePrincipal) -> JSONResponse:
    """200 when the database answers; 503 problem+json when it does not."""
    db: Database = request.app.state.db
    try:
        await db.ping()
    except Exception as exc:
        return problem_response(
            503,
            code="database-unreachable",
            detail=gettext("database check failed: %(error)s", error=type(exc).__name__),
        )
    return JSONResponse({"status": "ok", "database": db.dialect})
