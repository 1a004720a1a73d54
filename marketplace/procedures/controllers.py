"""Procedure templates, readable by anyone."""

from __future__ import annotations

from typing import Any

from litestar import get

from marketplace.core.auth import PUBLIC, allow
from marketplace.core.errors import NotFound
from marketplace.core.paging import page_list
from marketplace.procedures import engine
from marketplace.procedures.schemas import ProcedureOut, procedure_out


@get("/api/v1/procedures", opt=allow(PUBLIC), tags=["procedures"])
async def list_procedures(limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
    """The latest version of every procedure template, with its stages and what each asks (paged)."""
    items, next_cursor = page_list([procedure_out(t) for t in engine.all_latest()], limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


@get("/api/v1/procedures/{procedure_id:str}", opt=allow(PUBLIC), tags=["procedures"])
async def get_procedure(procedure_id: str, version: int | None = None) -> ProcedureOut:
    """One template (latest version, or `?version=`)."""
    template = engine.latest(procedure_id) if version is None else engine.load_templates().get((procedure_id, version))
    if template is None:
        raise NotFound("procedure template")
    return procedure_out(template)
