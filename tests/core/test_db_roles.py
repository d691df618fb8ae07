"""`make serve` migrates and grants as the owner, then runs as the application role."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def _serve(tmp_path, **env):
    (tmp_path / "flask").write_text('#!/bin/sh\necho "flask DATABASE_URL=$DATABASE_URL $*" >> "$FAKE_OUT"\n')
    (tmp_path / "gunicorn").write_text('#!/bin/sh\nsleep 0.3; echo "gunicorn DATABASE_URL=$DATABASE_URL" >> "$FAKE_OUT"\n')
    for name in ("flask", "gunicorn"):
        (tmp_path / name).chmod(0o755)
    out = tmp_path / "out.txt"
    out.unlink(missing_ok=True)
    environ = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "APP_ROLE")}
    return subprocess.run(["make", "-s", "-o", "install", "-o", "translations", "serve", f"BIN={tmp_path}", "RQ_WORKERS=1"],
                          cwd=ROOT, timeout=60, capture_output=True, text=True,
                          env={**environ, "FAKE_OUT": str(out), "REDIS_URL": "redis://r", **env}), out


def test_make_serve_migrates_and_grants_as_the_owner(tmp_path):
    app_url = "postgresql+psycopg://greenfin_app:secret@db/greenfin"
    owner_url = "postgresql+psycopg://greenfin_owner:other@db/greenfin"
    result, out = _serve(tmp_path, DATABASE_URL=app_url, MIGRATION_DATABASE_URL=owner_url)
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines[:2] == [f"flask DATABASE_URL={owner_url} --app greenfin db upgrade heads",
                         f"flask DATABASE_URL={owner_url} --app greenfin db grant-app-role greenfin_app"]
    assert f"flask DATABASE_URL={app_url} --app greenfin rq worker high default low" in lines
    assert f"gunicorn DATABASE_URL={app_url}" in lines


def test_make_serve_refuses_without_the_owner_url(tmp_path):
    result, out = _serve(tmp_path, DATABASE_URL="postgresql+psycopg://greenfin_app@db/greenfin")
    assert result.returncode != 0 and "MIGRATION_DATABASE_URL" in result.stdout + result.stderr
    assert not out.exists()
