"""Files: a crash between writing an upload and committing its row leaves a file no row refers to;
the worker sweeps such files once they are older than any upload takes. And one upload limit, stated once."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import time_machine
from litestar.routes import HTTPRoute

from marketplace import files
from marketplace.core.clock import now
from marketplace.experiments import storage
from marketplace.experiments.tables import DeliverableFile, Milestone
from marketplace.settings import UPLOAD_BODY_LIMIT_MB
from marketplace.worker import discover_jobs, run_once
from tests.factories import token_for
from tests.factories_payments import PDF, deliver, make_experiment

ROOT = Path(__file__).resolve().parent.parent


async def test_files_that_no_row_refers_to_are_swept_and_delivered_ones_stay(client, file_storage):
    experiment_id, _servant, _officer, founder = await make_experiment()
    milestone = await Milestone.select(Milestone.id).where(Milestone.experiment == experiment_id).first()
    headers = await token_for(founder)
    assert (await deliver(client, str(milestone["id"]), headers)).status_code == 201
    kept = (await DeliverableFile.select(DeliverableFile.storage_name).first())["storage_name"]
    # What uploads cut short by a crash leave behind: files written, rows never committed.
    orphans = [await storage.store(PDF) for _ in range(3)] + [await storage.store(PDF, "proposals")]
    folders = ["deliverables"] * 3 + ["proposals"]
    storage._last_sweep.clear()

    jobs = [job for job in discover_jobs() if job.__name__.startswith("sweep_unreferenced_")]
    assert sorted(job.__name__ for job in jobs) == ["sweep_unreferenced_deliverables_files", "sweep_unreferenced_proposals_files"]
    await run_once(jobs)  # at once: the files may belong to uploads still in flight
    assert all([await files.exists(f, n) for f, n in zip(folders, orphans, strict=True)])

    with time_machine.travel(now() + timedelta(hours=2)):
        storage._last_sweep.clear()
        done = await run_once(jobs)
    assert sum(done.values()) >= 4  # these four, and any file earlier tests of the session left without a row
    assert not any([await files.exists(f, n) for f, n in zip(folders, orphans, strict=True)])
    assert await files.exists("deliverables", kept)
    file_id = (await DeliverableFile.select(DeliverableFile.id).first())["id"]
    download = await client.get(f"/api/v1/deliverable-files/{file_id}", headers=headers)
    assert download.status_code == 200 and download.content == PDF


def test_the_upload_limit_is_stated_once_and_nginx_agrees(app):
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.findall(r"client_max_body_size\s+(\d+)m;", nginx) == [str(UPLOAD_BODY_LIMIT_MB)]
    upload_routes = {(route.path, tuple(sorted(handler.http_methods))): handler.request_max_body_size
                     for route in app.routes if isinstance(route, HTTPRoute) for handler in route.route_handlers
                     if isinstance(handler.request_max_body_size, int) and handler.request_max_body_size > 1024 * 1024}
    assert len(upload_routes) >= 4, upload_routes  # deliverables and stage documents, API and pages
    assert set(upload_routes.values()) == {UPLOAD_BODY_LIMIT_MB * 1024 * 1024}
