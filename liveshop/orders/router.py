from __future__ import annotations

from fastapi import APIRouter

from liveshop.core.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["orders"], responses=PROBLEM_RESPONSES)
