"""File storage (marketplace.files): the same behaviour from the local folder and from the database, and with the
database every app instance reads what another wrote, whatever its own upload folder."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine

from marketplace import files
from marketplace.core.clock import now
from marketplace.settings import Settings

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 2000  # ~512 kB: more than one chunk when streamed


@pytest.fixture(autouse=True)
def own_upload_folder(override_settings, tmp_path):
    """An upload folder of this test's own: other tests leave files in the suite's (the database is emptied)."""
    override_settings(upload_dir=tmp_path / "uploads")


async def test_written_bytes_are_read_streamed_and_deleted(file_storage):
    await files.write("proposals", "a1b2", PDF)
    assert await files.read("proposals", "a1b2") == PDF
    chunks = [chunk async for chunk in files.stream("proposals", "a1b2", chunk_size=100_000)]
    assert len(chunks) == 6 and b"".join(chunks) == PDF
    assert await files.exists("proposals", "a1b2")
    with pytest.raises(FileExistsError):
        await files.write("proposals", "a1b2", b"other bytes")
    assert await files.read("proposals", "a1b2") == PDF, "nothing is ever overwritten"

    await files.delete("proposals", "a1b2")
    await files.delete("proposals", "a1b2")  # deleting what is gone is harmless
    assert not await files.exists("proposals", "a1b2")
    with pytest.raises(FileNotFoundError):
        await files.read("proposals", "a1b2")
    with pytest.raises(FileNotFoundError):
        [chunk async for chunk in files.stream("proposals", "a1b2")]


async def test_content_addressed_files_are_stored_once(file_storage):
    digest = hashlib.sha256(PDF).hexdigest()
    name = f"{digest[:2]}/{digest}.pdf"
    await files.write_once("documents", name, PDF)
    await files.write_once("documents", name, PDF)
    assert await files.read("documents", name) == PDF
    if file_storage == "database":
        from marketplace.files.tables import StoredFile

        assert await StoredFile.count().where(StoredFile.folder == "documents") == 1


async def test_names_that_could_leave_their_folder_are_refused(file_storage):
    for folder, name in [("proposals", "../secret_key"), ("proposals", "/etc/passwd"), ("proposals", "a/../../b"),
                         ("../var", "x"), ("proposals", ""), ("proposals", "a/b/c")]:
        with pytest.raises(ValueError):
            await files.write(folder, name, b"x")


async def test_the_sweep_sees_only_old_unreferenced_names(file_storage):
    await files.write("deliverables", "kept", b"x")
    await files.write("deliverables", "orphan", b"x")
    with time_machine.travel(now() + timedelta(hours=2)):
        await files.write("deliverables", "young", b"x")
        cutoff = now() - timedelta(hours=1)
    assert await files.unreferenced("deliverables", {"kept"}, cutoff) == ["orphan"]
    assert sorted(await files.names("deliverables")) == ["kept", "orphan", "young"]


async def test_with_the_database_an_instance_reads_what_another_wrote(override_settings, tmp_dir):
    override_settings(file_storage="database", upload_dir=tmp_dir / "instance-1")
    await files.write("proposals", "c0ffee", PDF)
    override_settings(upload_dir=tmp_dir / "instance-2")  # another machine: another (empty) folder
    assert await files.read("proposals", "c0ffee") == PDF
    assert not (tmp_dir / "instance-1" / "proposals").exists(), "no byte went to a local folder"


def test_the_backend_is_chosen_by_its_setting():
    assert Settings.from_env({"SECRET_KEY": "x"}).file_storage == "local"
    assert Settings.from_env({"SECRET_KEY": "x", "MARKETPLACE_FILE_STORAGE": "Database"}).file_storage == "database"
    with pytest.raises(SystemExit, match="MARKETPLACE_FILE_STORAGE must be one of local, database"):
        Settings.from_env({"SECRET_KEY": "x", "MARKETPLACE_FILE_STORAGE": "s3"})


async def test_the_upload_folder_is_imported_into_the_database_once(override_settings, tmp_path):
    digest = hashlib.sha256(PDF).hexdigest()
    await files.write("proposals", "annex1", PDF)
    await files.write_once("documents", f"{digest[:2]}/{digest}.pdf", PDF)
    (tmp_path / "uploads" / "proposals" / "half-written.1.tmp").write_bytes(b"x")  # what a crash leaves: not a file

    assert await files.import_local_folder() == (2, 2 * len(PDF))
    assert await files.import_local_folder() == (2, 2 * len(PDF)), "running it again changes nothing"
    override_settings(file_storage="database", upload_dir=tmp_path / "elsewhere")
    assert await files.read("proposals", "annex1") == PDF
    assert await files.read("documents", f"{digest[:2]}/{digest}.pdf") == PDF
    assert await files.names("proposals") == ["annex1"]
