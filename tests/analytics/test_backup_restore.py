"""The backup drill, on PostgreSQL: scripts/backup.sh → drop → scripts/restore.sh into a
fresh database and fresh file folders → reconcile_ledger is clean, the buyer's download
gives the same bytes and the site serves. Skipped on SQLite. Uses its own database name
(dropped at the end) and temporary folders; every subprocess has a timeout."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from analytics.services import search_miss_record
from marketplace.backups import media_backup, media_restore
from tests.catalog.factories import ProductFactory
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 240  # seconds per step


def _url(name: str) -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "postgres")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _env(database: str, media: Path, private: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "CELERY_BROKER_URL", "S3_PRIVATE_BUCKET", "S3_PUBLIC_BUCKET")
    }
    env.update(
        DATABASE_URL=_url(database),
        MEDIA_ROOT=str(media),
        PRIVATE_MEDIA_ROOT=str(private),
        PYTHON=sys.executable,
        PYTHONPATH=str(ROOT),
        DEBUG="true",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


CHECK = """
import hashlib
from django.test import Client
from django.test.utils import setup_test_environment
from orders.models import Order
setup_test_environment()
client = Client()
print("home", client.get("/").status_code)
order = Order.objects.get(pk={order_id})
item = order.items.get()
asset = item.product.assets.get()
response = client.get(
    f"/downloads/{{item.product_id}}/files/{{asset.pk}}/", {{"t": order.access_token}}, follow=True
)
body = b"".join(response.streaming_content)
print("download", response.status_code, hashlib.sha256(body).hexdigest())
"""


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the backup drill needs PostgreSQL (pg_dump / pg_restore)",
)
@pytest.mark.django_db(transaction=True)
def test_backup_drop_restore_gives_a_clean_ledger_working_downloads_and_a_site(tmp_path, pay):
    # given a paid file order (the file in the private store, its image in the public one)
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True, price_cents=1500)
    order = pay(product, buyer=UserFactory())
    asset = product.assets.get()
    with asset.file.open("rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    search_miss_record(query="articulated dragon")
    call_command("reconcile_ledger")  # clean before (raises SystemExit on drift)
    source = connection.settings_dict["NAME"]
    env = _env(source, Path(settings.MEDIA_ROOT), Path(settings.PRIVATE_MEDIA_ROOT))

    # when it is backed up twice with BACKUP_KEEP=1 (retention keeps the newest)
    backups = tmp_path / "backups"
    first = _run(["bash", "scripts/backup.sh", str(backups)], {**env, "BACKUP_KEEP": "1"})
    assert first.returncode == 0, first.stderr
    import time

    time.sleep(1.1)  # a backup folder is named by the second
    second = _run(["bash", "scripts/backup.sh", str(backups)], {**env, "BACKUP_KEEP": "1"})
    assert second.returncode == 0, second.stderr
    kept = sorted(p.name for p in backups.iterdir())
    assert len(kept) == 1 and "retention: removed" in second.stdout
    backup = backups / kept[0]
    assert {p.name for p in backup.iterdir()} == {
        "db.dump",
        "public.tar.gz",
        "private.tar.gz",
        "MANIFEST",
    }
    assert "private: 1 file(s)" in (backup / "MANIFEST").read_text()

    # and restored into a fresh database and fresh, empty folders ("the old one is gone")
    fresh = f"{source}_restore_{os.getpid()}"
    media, private = tmp_path / "media2", tmp_path / "private2"
    restore_env = _env(fresh, media, private)
    try:
        restored = _run(["bash", "scripts/restore.sh", str(backup)], restore_env)
        # then reconcile_ledger (the script's last step) is clean
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "DRIFT" not in restored.stdout
        assert (private / asset.file.name).exists()
        # the site serves and the buyer's download link gives the same bytes
        check = _run(
            [sys.executable, "manage.py", "shell", "-c", CHECK.format(order_id=order.pk)],
            restore_env,
        )
        assert check.returncode == 0, check.stderr
        assert "home 200" in check.stdout
        assert f"download 200 {digest}" in check.stdout
        # and a second restore into the now-filled database is refused
        again = _run(["bash", "scripts/restore.sh", str(backup)], restore_env)
        assert again.returncode != 0 and "not empty" in again.stderr
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')


def test_the_file_stores_round_trip_through_s3(s3_storages, tmp_path):
    # given a file in each bucket (moto's S3, emptied of other tests' objects first)
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    _endpoint, client = s3_storages
    for bucket in ("hc3d-public", "hc3d-private"):
        for obj in client.list_objects_v2(Bucket=bucket).get("Contents", []):
            client.delete_object(Bucket=bucket, Key=obj["Key"])
    storages["default"].save("images/a.png", ContentFile(b"png"))
    storages["private"].save("assets/b.stl", ContentFile(b"solid b"))
    # when both are backed up, the buckets emptied, and restored
    copies = media_backup(dest=tmp_path)
    assert [(c.label, c.kind, c.files) for c in copies] == [
        ("public", "s3", 1),
        ("private", "s3", 1),
    ]
    for bucket in ("hc3d-public", "hc3d-private"):
        for obj in client.list_objects_v2(Bucket=bucket).get("Contents", []):
            client.delete_object(Bucket=bucket, Key=obj["Key"])
    media_restore(src=tmp_path)
    # then the objects are back
    assert storages["private"].open("assets/b.stl").read() == b"solid b"
    assert storages["default"].open("images/a.png").read() == b"png"


def test_a_restore_refuses_a_folder_that_holds_files(tmp_path, settings):
    media_backup(dest=tmp_path / "b")
    Path(settings.PRIVATE_MEDIA_ROOT, "x.txt").write_text("existing")
    with pytest.raises(FileExistsError):
        media_restore(src=tmp_path / "b")
