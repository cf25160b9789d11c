"""Backups of the two file stores (public media, private digital files), for
`scripts/backup.sh` / `scripts/restore.sh` through `manage.py media_backup` /
`media_restore`. The database is dumped by the scripts with pg_dump / pg_restore.

Each store becomes one `<label>.tar.gz` (public, private) whatever the backend: the
files of a local folder (the embedded default), or every object of an S3 bucket read
and written through boto3 (the bucket django-storages is configured with). A restore
writes into the store the settings name now, so restoring into a fresh folder or bucket
is a matter of pointing MEDIA_ROOT / PRIVATE_MEDIA_ROOT / S3_*_BUCKET at it.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

from django.core.files.storage import FileSystemStorage, storages

STORES = (("default", "public"), ("private", "private"))


@dataclass(frozen=True)
class StoreCopy:
    label: str
    kind: str  # "folder" or "s3"
    where: str  # the folder or the bucket
    files: int
    bytes: int


def _describe(storage) -> tuple[str, str]:
    if isinstance(storage, FileSystemStorage):
        return "folder", str(storage.location)
    bucket = getattr(storage, "bucket_name", None)
    if bucket:
        return "s3", bucket
    raise RuntimeError(f"Cannot back up a {type(storage).__name__} store.")


def media_backup(*, dest: Path) -> list[StoreCopy]:
    """Write `<dest>/public.tar.gz` and `<dest>/private.tar.gz`. Reads only; a missing
    local folder is an empty store. Returns what was copied."""
    dest.mkdir(parents=True, exist_ok=True)
    copies = []
    for alias, label in STORES:
        storage = storages[alias]
        kind, where = _describe(storage)
        files = size = 0
        with tarfile.open(dest / f"{label}.tar.gz", "w:gz") as tar:
            if kind == "folder":
                root = Path(where)
                for path in sorted(root.rglob("*")) if root.exists() else []:
                    if path.is_file():
                        tar.add(path, arcname=str(path.relative_to(root)))
                        files, size = files + 1, size + path.stat().st_size
            else:
                for obj in storage.bucket.objects.all():
                    body = obj.get()["Body"].read()
                    info = tarfile.TarInfo(obj.key)
                    info.size = len(body)
                    tar.addfile(info, io.BytesIO(body))
                    files, size = files + 1, size + len(body)
        copies.append(StoreCopy(label, kind, where, files, size))
    return copies


def media_restore(*, src: Path, force: bool = False) -> list[StoreCopy]:
    """Put `<src>/public.tar.gz` and `<src>/private.tar.gz` back into the stores the
    settings name. Refuses a local folder that already holds files unless `force` (a
    restore goes into a fresh store). Archive paths are checked (tarfile's "data"
    filter: nothing outside the folder, no links out, no devices)."""
    copies = []
    for alias, label in STORES:
        archive = src / f"{label}.tar.gz"
        if not archive.exists():
            raise FileNotFoundError(f"{archive} is missing.")
        storage = storages[alias]
        kind, where = _describe(storage)
        files = size = 0
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile()]
            if kind == "folder":
                root = Path(where)
                if not force and root.exists() and any(p.is_file() for p in root.rglob("*")):
                    raise FileExistsError(f"{root} is not empty (restore into a fresh folder).")
                root.mkdir(parents=True, exist_ok=True)
                tar.extractall(root, members=members, filter="data")
            else:
                for member in members:
                    storage.bucket.upload_fileobj(tar.extractfile(member), member.name)
            files = len(members)
            size = sum(m.size for m in members)
        copies.append(StoreCopy(label, kind, where, files, size))
    return copies
