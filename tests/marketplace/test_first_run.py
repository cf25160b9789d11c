"""The first run from the README: `scripts/run.sh` shows the site as users see it, the
test suite can run beside it, and the README's commands work from a fresh clone."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.marketplace.test_settings import _clean_env

ROOT = Path(__file__).resolve().parents[2]
RUN_SH = (ROOT / "scripts" / "run.sh").read_text()
README = (ROOT / "README.md").read_text()

pytestmark = pytest.mark.django_db

PROBE = """
import json
import django
from django.conf import settings
django.setup()
print(json.dumps({
    "debug": settings.DEBUG,
    "static": settings.STORAGES["staticfiles"]["BACKEND"],
    "middleware": settings.MIDDLEWARE,
    "ssl_redirect": getattr(settings, "SECURE_SSL_REDIRECT", False),
    "protocol": settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL,
}))
"""


def _settings(tmp_path, **env) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=_clean_env(VAR_DIR=str(tmp_path), **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_run_sh_defaults_debug_off_honours_port_and_host_and_says_how_to_debug():
    assert 'export DEBUG="${DEBUG:-false}"' in RUN_SH
    assert 'PORT="${PORT:-8000}"' in RUN_SH and 'HOST="${HOST:-127.0.0.1}"' in RUN_SH
    assert 'runserver "$HOST:$PORT"' in RUN_SH
    # DEBUG off serves static files from the collected, hashed copy (WhiteNoise)
    assert "collectstatic --noinput" in RUN_SH
    assert "DEBUG=true bash scripts/run.sh" in RUN_SH
    assert subprocess.run(["bash", "-n", str(ROOT / "scripts" / "run.sh")]).returncode == 0


def test_run_sh_settings_serve_static_files_over_plain_http_with_debug_off(tmp_path):
    local = _settings(
        tmp_path,
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
    )
    assert local["debug"] is False
    assert local["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in local["middleware"]
    # plain HTTP: no redirect, and emailed links (signup verification) are http://
    assert local["ssl_redirect"] is False and local["protocol"] == "http"
    production = _settings(tmp_path, DEBUG="false")
    assert production["ssl_redirect"] is True and production["protocol"] == "https"


def test_the_project_404_page_is_what_users_see_with_debug_off(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "couldn’t find that page" in response.content.decode()


def test_tests_never_touch_the_running_servers_database_or_var_folders():
    var = Path(settings.VAR_DIR).resolve()
    server_db = str(var / "db.sqlite3")
    assert str(connection.settings_dict["NAME"]) != server_db
    if connection.vendor == "sqlite":
        assert connection.is_in_memory_db()
    folders = [settings.MEDIA_ROOT, settings.EMAIL_FILE_PATH, settings.PRIVATE_MEDIA_ROOT]
    for name in ("default", "private") if not settings.USE_S3 else ():
        location = settings.STORAGES[name].get("OPTIONS", {}).get("location")
        if location:
            folders.append(location)
    for folder in folders:
        assert not Path(folder).resolve().is_relative_to(var), folder
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"


def test_the_readme_commands_work_from_a_fresh_clone_and_it_links_nowhere_outside():
    assert not re.search(r"\]\((?!#)[^)]*\)", README)  # no markdown links
    assert not re.search(r"<https?://", README)  # no autolinks
    assert "../" not in README  # nothing outside the repository
    # manage.py only through the venv the two scripts create
    assert not re.search(r"(?<!\.venv/bin/)python manage\.py", README)
    for script in re.findall(r"bash (scripts/[\w.]+\.sh)", README):
        assert (ROOT / script).is_file(), script
    for path in re.findall(r"`((?:docs|scripts)/[\w./-]+)`", README):
        assert (ROOT / path).exists(), path
    assert "DEBUG=true bash scripts/run.sh" in README and "PORT=8080" in README
