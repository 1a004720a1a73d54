"""Production (MARKETPLACE_ENV=production, or a public BASE_URL when MARKETPLACE_ENV is unset) never starts with a
missing, placeholder or short SECRET_KEY: one clear line, before anything is served. Elsewhere a development key is
generated once into the data directory (MARKETPLACE_DATA_DIR), which also holds the default SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from marketplace.settings import Settings, default_data_dir

ROOT = Path(__file__).resolve().parent.parent
STRONG = "q3Jx0v7N8yZ_kF2mT9bWcL4rHs6dPe1uGa5oVi0XnYw"  # 43 random characters


@pytest.mark.parametrize("secret", [None, "", "change-me", "change-me-to-a-long-random-string-of-many-characters", "short-but-not-a-placeholder"])
def test_production_refuses_a_missing_placeholder_or_short_secret(secret, tmp_path):
    env = {"BASE_URL": "https://marketplace.example.be", "MARKETPLACE_ALLOW_PUBLIC_SANDBOX": "1", "MARKETPLACE_DATA_DIR": str(tmp_path)}
    if secret is not None:
        env["SECRET_KEY"] = secret
    with pytest.raises(SystemExit) as refused:
        Settings.from_env(env)
    message = str(refused.value)
    assert message.startswith("SECRET_KEY is ") and "in production (BASE_URL https://marketplace.example.be is public)" in message
    assert "\n" not in message
    assert list(tmp_path.iterdir()) == [], "no key is generated in production"


def test_marketplace_env_decides_production_either_way(tmp_path):
    with pytest.raises(SystemExit, match=r"in production \(MARKETPLACE_ENV=production\)"):
        Settings.from_env({"MARKETPLACE_ENV": "production", "SECRET_KEY": "change-me", "MARKETPLACE_DATA_DIR": str(tmp_path)})
    staging = Settings.from_env({"MARKETPLACE_ENV": "development", "BASE_URL": "https://staging.example.be",
                                 "MARKETPLACE_DATA_DIR": str(tmp_path)})
    assert staging.secret_key == (tmp_path / "secret_key").read_text()
    with pytest.raises(SystemExit, match="MARKETPLACE_ENV must be production or development, got 'prod'"):
        Settings.from_env({"MARKETPLACE_ENV": "prod", "SECRET_KEY": STRONG})


def test_production_starts_with_a_long_random_secret(tmp_path):
    settings = Settings.from_env({"BASE_URL": "https://marketplace.example.be", "SECRET_KEY": STRONG,
                                  "MARKETPLACE_DATA_DIR": str(tmp_path)})
    assert settings.secret_key == STRONG
    assert list(tmp_path.iterdir()) == []


def test_state_lives_in_the_data_directory(tmp_path):
    first = Settings.from_env({"MARKETPLACE_DATA_DIR": str(tmp_path / "state")})
    assert first.database_url == f"sqlite:///{tmp_path / 'state' / 'marketplace.sqlite3'}"
    assert first.upload_dir == tmp_path / "state" / "uploads"
    key_file = tmp_path / "state" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600, "the generated key is readable by its owner only"
    again = Settings.from_env({"MARKETPLACE_DATA_DIR": str(tmp_path / "state")})
    assert again.secret_key == first.secret_key, "sessions survive a restart"
    assert default_data_dir() == ROOT / "var", "a checkout keeps its state in var/"


def test_serve_refuses_a_placeholder_secret_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "MARKETPLACE_ENV")}
    env.update(BASE_URL="https://marketplace.example.be", SECRET_KEY="change-me", MARKETPLACE_DATA_DIR=str(tmp_path),
               MARKETPLACE_ALLOW_PUBLIC_SANDBOX="1")
    done = subprocess.run([sys.executable, "-m", "marketplace", "serve", "--port", "1"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "SECRET_KEY is a placeholder or shorter than 32 characters in production (BASE_URL https://marketplace.example.be is "
        "public): set a long random one, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"]
