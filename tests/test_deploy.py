"""What deploy/README.md has an operator run works as written: the settings file reads the same through systemd and
deploy/with-env (a MAIL_FROM with spaces stays whole), the example refuses to start in production until its
placeholders are replaced, migrations finish before the web and worker units start, and Debian 12's nginx loads
the site configuration."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from marketplace.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
EXAMPLE = DEPLOY / "marketplace.env.example"


def _with_env(env_file: Path) -> dict[str, str]:
    """The environment deploy/with-env gives a command, minus what it inherited."""
    done = subprocess.run([str(DEPLOY / "with-env"), str(env_file), "env", "-0"], capture_output=True, env={"PATH": os.environ["PATH"]},
                          timeout=30)
    assert done.returncode == 0, done.stderr.decode()
    pairs = [item.split("=", 1) for item in done.stdout.decode().split("\0") if item]
    return {k: v for k, v in pairs if k not in ("PATH", "PWD", "SHLVL", "_")}


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # keys are case-sensitive
    unit.read(DEPLOY / name)
    return unit


def test_with_env_keeps_quoted_spaces_and_expands_nothing(tmp_path):
    env_file = tmp_path / "marketplace.env"
    env_file.write_text('# a comment\n; another\nMAIL_FROM="Innovation Marketplace <no-reply@example.be>"\n'
                        "  SMTP_URL = smtp://mailer:pa$$w`rd@127.0.0.1:587?starttls=1&x=1  \nLABEL='a  b'\nEMPTY=\n")
    assert _with_env(env_file) == {"MAIL_FROM": "Innovation Marketplace <no-reply@example.be>",
                                   "SMTP_URL": "smtp://mailer:pa$$w`rd@127.0.0.1:587?starttls=1&x=1", "LABEL": "a  b", "EMPTY": ""}
    env_file.write_text("MAIL_FROM Innovation\n")
    wrong = subprocess.run([str(DEPLOY / "with-env"), str(env_file), "true"], capture_output=True, text=True, timeout=30)
    assert (wrong.returncode, wrong.stderr.strip()) == (2, f"{env_file}:1: expected KEY=value, got: MAIL_FROM Innovation")


def test_the_example_settings_refuse_production_until_every_placeholder_is_replaced(tmp_path):
    lines = [line for line in EXAMPLE.read_text().splitlines() if line and not line.startswith("#")]
    assert all(re.fullmatch(r'[A-Z_]+=("[^"\\$`]*"|[^"\'\\\s]*)', line) for line in lines), \
        "only the syntax systemd's EnvironmentFile= and deploy/with-env read alike"
    settings = _with_env(EXAMPLE)
    assert settings["MAIL_FROM"] == "Innovation Marketplace <no-reply@marketplace.example.be>"
    assert settings["MARKETPLACE_ENV"] == "production"
    settings["MARKETPLACE_DATA_DIR"] = str(tmp_path)

    with pytest.raises(SystemExit, match=r"^SECRET_KEY is a placeholder or shorter than 32 characters in production "
                                         r"\(MARKETPLACE_ENV=production\)"):
        Settings.from_env(settings)
    # What deploy/README.md's sed fills in:
    settings.update(SECRET_KEY="x" * 64, MARKETPLACE_AUDIT_KEY="y" * 64,
                    DATABASE_URL=settings["DATABASE_URL"].replace("change-me-db-password", "0f" * 24))
    with pytest.raises(SystemExit, match=r"^SMTP_URL still holds the example's placeholder \(change-me\) in production"):
        Settings.from_env(settings)
    # What the operator sets next:
    settings.update(SMTP_URL="smtp://mailer:real@mail.example.be:587?starttls=1", STRIPE_API_KEY="sk_live_51Real",
                    STRIPE_WEBHOOK_SECRET="whsec_real")
    ready = Settings.from_env(settings)
    assert ready.database_url == f"postgresql://marketplace:{'0f' * 24}@127.0.0.1:5432/marketplace"
    assert ready.upload_dir.is_relative_to(_with_env(EXAMPLE)["MARKETPLACE_DATA_DIR"]), "all state in the data directory"


def test_migrations_finish_before_the_web_and_worker_units_start():
    migrate = _unit("marketplace-migrate.service")
    assert migrate["Service"]["Type"] == "oneshot" and migrate["Service"]["RemainAfterExit"] == "yes"
    assert migrate["Service"]["ExecStart"].endswith("/.venv/bin/marketplace migrate")
    example = _with_env(EXAMPLE)
    for name in ("marketplace.service", "marketplace-worker.service", "marketplace-backup.service", "marketplace-migrate.service"):
        unit = _unit(name)
        if name in ("marketplace.service", "marketplace-worker.service"):
            assert "marketplace-migrate.service" in unit["Unit"]["Requires"].split(), name
            assert "marketplace-migrate.service" in unit["Unit"]["After"].split(), name
        assert unit["Service"]["EnvironmentFile"] == "/etc/marketplace/marketplace.env", name
        assert unit["Service"]["ReadWritePaths"] == example["MARKETPLACE_DATA_DIR"], f"{name} writes only the data directory"


def test_the_readme_commands_run_in_an_order_a_fresh_machine_allows():
    commands = re.search(r"```sh\n(.*?)```", (DEPLOY / "README.md").read_text(), re.S).group(1)
    position = {what: commands.find(what) for what in ("git clone", "deploy/system-deps.sh", "pip install .",
                                                          "PASSWORD '$DB_PASSWORD'", "change-me-db-password/$DB_PASSWORD",
                                                          "marketplace-migrate.service", "create-admin")}
    assert -1 not in position.values(), position
    assert list(position.values()) == sorted(position.values()), "each step only needs the ones before it"
    assert "xargs" not in commands, "the settings file is read by deploy/with-env, which keeps quoted spaces"


def test_debian_nginx_loads_the_site_configuration(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx is needed to check deploy/nginx.conf: `sudo bash deploy/system-deps.sh` installs it", pytrace=False)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    site = (DEPLOY / "nginx.conf").read_text()
    site = site.replace("/etc/ssl/certs/ssl-cert-snakeoil.pem", str(cert)).replace("/etc/ssl/private/ssl-cert-snakeoil.key", str(key))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
                                         f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n")
    checked = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True,
                             text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
