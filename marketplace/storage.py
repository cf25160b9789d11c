"""Named storages for model fields.

`FileField(storage=callable)` calls the callable once, at import. Returning a lazy proxy
(like Django's own `default_storage`) keeps the field pointed at whatever
`STORAGES["private"]` says now, so a test (or moto) can swap the backend.
"""

from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.utils.functional import LazyObject, empty


class _PrivateStorage(LazyObject):
    def _setup(self):
        self._wrapped = storages["private"]


_private_storage = _PrivateStorage()


def private_storage():
    """Digital files: never at a public URL (local: no URL; S3: presigned only)."""
    return _private_storage


def _reset_private_storage(*, setting, **kwargs):
    if setting == "STORAGES":
        _private_storage._wrapped = empty


setting_changed.connect(_reset_private_storage, dispatch_uid="marketplace-private-storage")
