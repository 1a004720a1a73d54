"""`pip install .` gives a marketplace that works without the checkout: the wheel carries the templates, the
procedure templates, the language catalogues and the static files, and everything it writes lands in the data
directory (MARKETPLACE_DATA_DIR), never in site-packages. Built from a copy of the source tree, never in it
(other runs use the tree at the same time)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PAGE_TIMEOUT_SECONDS = 90  # an upper bound for a loaded machine; it answers in a few seconds


def _source_files() -> list[str]:
    """The files a clone holds (tracked, or new and not ignored), without the caches, .venv and var/."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def _run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def test_the_wheel_installs_into_a_fresh_environment_and_serves_pages(tmp_path):
    source = tmp_path / "source"
    files = _source_files()
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)

    # The wheel, built with this environment's setuptools (no network), from the copy.
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir",
         tmp_path / "dist", "./source", cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("marketplace-*.whl")
    carried = set(zipfile.ZipFile(wheel).namelist())
    needed = {f"marketplace/_shipped/{name}" for name in files if name.startswith(("templates/", "procedures/"))}
    needed |= {name for name in files if name.startswith("marketplace/") and not name.endswith(".py")}
    assert needed, "the checkout has templates, procedures and catalogues"
    assert needed - carried == set(), "every template, procedure, catalogue and static file is in the wheel"

    # A fresh environment holding only the wheel; the dependencies come from this test's environment, added
    # after the new site-packages by a .pth line (which does not run the checkout's editable-install hook).
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-compile", wheel)
    site_packages = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip())
    (site_packages / "zz_test_dependencies.pth").write_text(
        "\n".join(dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])) + "\n")
    installed_before = _files_under(site_packages)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data = tmp_path / "data"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8", "MARKETPLACE_DATA_DIR": str(data),
           "MARKETPLACE_RUN_WORKER": "0", "LOG_FORMAT": "text"}
    where = _run(python, "-c", "import marketplace; print(marketplace.__file__)", cwd=elsewhere, env=env).stdout.strip()
    assert Path(where).is_relative_to(site_packages), f"the installed wheel is imported, not the checkout ({where})"

    migrated = _run(venv / "bin" / "marketplace", "migrate", cwd=elsewhere, env=env)
    assert f"sqlite:///{data / 'marketplace.sqlite3'}" in migrated.stdout

    port = _free_port()
    server = subprocess.Popen([str(venv / "bin" / "marketplace"), "serve", "--port", str(port)], cwd=elsewhere, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + PAGE_TIMEOUT_SECONDS
        while True:
            assert server.poll() is None, f"marketplace serve stopped:\n{server.stdout.read()}"
            try:
                english = httpx.get(f"{base}/challenges", headers={"Accept-Language": "en"}, timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "marketplace serve did not answer in time"
                time.sleep(0.3)
        french = httpx.get(f"{base}/challenges", headers={"Accept-Language": "fr"}, timeout=5)
        procedures = httpx.get(f"{base}/api/v1/procedures", timeout=5)
        stylesheet = httpx.get(f"{base}/static/site.css", timeout=5)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    assert english.status_code == 200 and "<h1>Challenges</h1>" in english.text
    assert french.status_code == 200 and "<h1>Défis</h1>" in french.text, "the catalogues travel with the wheel"
    shipped = {p.stem for p in (ROOT / "procedures").glob("*.toml")}
    assert procedures.status_code == 200
    assert shipped <= {item["id"] for item in procedures.json()["items"]}, "the procedure templates travel with the wheel"
    assert stylesheet.status_code == 200 and stylesheet.text == (ROOT / "marketplace/web/static/site.css").read_text()

    assert {"marketplace.sqlite3", "secret_key"} <= {p.name for p in data.iterdir()}, "state lives in the data directory"
    assert _files_under(site_packages) == installed_before, "nothing is written into site-packages"
