"""Experiments API (HTTP only): read an experiment, deliver a milestone, review it, record the outcome."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from marketplace.core.auth import BUYER_ROLES, SIGNED_IN, allow, current
from marketplace.experiments import schemas, services, storage
from marketplace.settings import UPLOAD_BODY_LIMIT_MB

UPLOAD_LIMIT = UPLOAD_BODY_LIMIT_MB * 1024 * 1024  # MAX_FILES files of MAX_FILE_BYTES, and the form


async def read_upload(request: Request[Any, Any, Any]) -> tuple[str, list[tuple[str, bytes]]]:
    """The multipart `report` field and every `files` part (empty file inputs are skipped)."""
    form = await request.form()
    report = form.get("report")
    files = []
    for part in form.getall("files") if "files" in form else []:
        if isinstance(part, UploadFile) and part.filename:
            files.append((part.filename, await part.read()))
    return (report if isinstance(report, str) else ""), files


class ExperimentController(Controller):
    path = "/api/v1"
    tags = ["experiments"]

    @get("/experiments", opt=allow(SIGNED_IN))
    async def list_experiments(self, request: Request[Any, Any, Any], limit: int = 20,
                               cursor: str | None = None) -> schemas.ExperimentPage:
        """The caller's experiments, newest first: its buyer team's, its company's, and (read only, as
        `role: incubator`) those of the companies that accepted its incubator into their portfolio."""
        items, next_cursor = await services.experiments_of(current(request), limit, cursor)
        return schemas.ExperimentPage(items=items, next_cursor=next_cursor)

    @get("/experiments/{experiment_id:str}", opt=allow(SIGNED_IN))
    async def get_experiment(self, request: Request[Any, Any, Any], experiment_id: str) -> schemas.ExperimentOut:
        """The experiment with its milestones, deliverables, reviews and payouts (both parties)."""
        experiment = await services.visible_experiment(current(request), experiment_id)
        return await services.experiment_out(experiment["id"])

    @post("/milestones/{milestone_id:str}/deliverables", status_code=HTTP_201_CREATED, request_max_body_size=UPLOAD_LIMIT,
          opt={**allow("company_member"), "content_types": ("multipart/form-data",)})
    async def submit_deliverable(self, request: Request[Any, Any, Any], milestone_id: str) -> schemas.MilestoneOut:
        """Multipart: `report` (text) and up to 5 `files` (PDF, images, text, CSV, office documents; 10 MB each)."""
        report, files = await read_upload(request)
        return await services.submit_deliverable(current(request), milestone_id, report, files)

    @post("/milestones/{milestone_id:str}/review", opt=allow("civil_servant", "procurement_officer"), status_code=HTTP_200_OK)
    async def review(self, request: Request[Any, Any, Any], milestone_id: str, data: schemas.ReviewIn) -> schemas.MilestoneOut:
        """Accept (starts the payout) or request changes (feedback required)."""
        return await services.review_milestone(current(request), milestone_id, data)

    @post("/experiments/{experiment_id:str}/outcome", opt=allow("civil_servant"), status_code=HTTP_200_OK)
    async def outcome(self, request: Request[Any, Any, Any], experiment_id: str, data: schemas.OutcomeIn) -> schemas.ExperimentOut:
        """End the experiment: result, learnings and follow-on. Accepted milestones are paid whatever the result."""
        return await services.record_outcome(current(request), experiment_id, data)

    @get("/deliverable-files/{file_id:str}", opt=allow("company_member", *BUYER_ROLES))
    async def download(self, request: Request[Any, Any, Any], file_id: str) -> Stream:
        """A deliverable's file (both parties), streamed from the file storage."""
        row, content = await services.deliverable_file(current(request), file_id)
        return storage.download(row, content, row["size"])
