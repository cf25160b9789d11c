"""Image upload checks shared by every app that accepts pictures (avatars, listings).

Images are judged by their content, never their name: Pillow must open and verify the
bytes, the format must be allowed, and the pixel count must stay under a ceiling that
stops decompression bombs before any pixel is decoded. `normalize_image` re-encodes
the picture as WebP, which drops EXIF (GPS included) and any payload hidden after the
image data.
"""

import io
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageOps

ALLOWED_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


def validate_image_upload(
    upload, *, max_bytes: int, max_pixels: int | None = None, min_side: int = 1
) -> tuple[int, int]:
    """Raise ValidationError unless `upload` is a real, allowed, sanely sized image.

    Returns (width, height). Leaves the file positioned at its start.
    """
    max_pixels = max_pixels or settings.IMAGE_MAX_PIXELS
    size = getattr(upload, "size", None)
    if size is not None and size == 0:
        raise ValidationError("The file is empty.", code="empty")
    if size is not None and size > max_bytes:
        raise ValidationError(
            "The image is %(size)s; the limit is %(limit)s.",
            code="too_large",
            params={"size": filesizeformat(size), "limit": filesizeformat(max_bytes)},
        )
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            # Pillow warns, then errors, on huge images; we check the size ourselves first.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                width, height = image.size
                image_format = image.format
                if width * height > max_pixels:
                    raise ValidationError(
                        "The image is %(w)s×%(h)s pixels; at most %(max)s million pixels "
                        "are accepted.",
                        code="too_many_pixels",
                        params={"w": width, "h": height, "max": max_pixels // 1_000_000},
                    )
                image.verify()
    except ValidationError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ValidationError("The image is too large to process.", code="too_many_pixels") from exc
    except Exception as exc:  # Pillow raises many types for corrupt or non-image data
        raise ValidationError(
            "The file is not an image we can read. Upload a JPEG, PNG, WebP or GIF.",
            code="not_an_image",
        ) from exc
    finally:
        upload.seek(0)
    if image_format not in ALLOWED_IMAGE_FORMATS:
        raise ValidationError(
            "%(format)s images are not accepted. Upload a JPEG, PNG, WebP or GIF.",
            code="format",
            params={"format": image_format or "This kind of"},
        )
    if min(width, height) < min_side:
        raise ValidationError(
            "The image must be at least %(min)s pixels on each side.",
            code="too_small",
            params={"min": min_side},
        )
    return width, height


def normalize_image(upload, *, max_side: int, name: str, quality: int = 85) -> InMemoryUploadedFile:
    """Re-encode a validated image as WebP no larger than `max_side`, without metadata."""
    upload.seek(0)
    with Image.open(upload) as image:
        image = ImageOps.exif_transpose(image)  # keep the orientation the camera meant
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="WEBP", quality=quality, method=4)
    size = buffer.tell()
    buffer.seek(0)
    return InMemoryUploadedFile(buffer, None, f"{name}.webp", "image/webp", size, None)


def validate_avatar(upload) -> None:
    """Model-field validator for seller avatars."""
    # Already-stored files (a re-save without a new upload) were checked when uploaded.
    if getattr(upload, "_committed", False):
        return
    validate_image_upload(upload, max_bytes=settings.AVATAR_MAX_BYTES, min_side=32)


# Storage names are measured in bytes: a filesystem takes 255 bytes per name, and a
# 200-character accented name is 400 bytes of UTF-8. Below that, with room for the
# suffix storage may add to keep names unique.
FILE_NAME_MAX_BYTES = 200


def validate_file_name(upload) -> None:
    """Raise ValidationError (a 4xx with this message, never a 500 from the storage) when
    the uploaded file's name is longer than FILE_NAME_MAX_BYTES in UTF-8 or holds a NUL
    or other control character."""
    name = (getattr(upload, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
    if any(ord(ch) < 32 for ch in name):
        raise ValidationError(
            "This file name contains control characters. Rename the file and upload it again.",
            code="file_name_control",
        )
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > FILE_NAME_MAX_BYTES:
        raise ValidationError(
            "This file name is too long (%(size)s bytes; at most %(limit)s, and letters "
            "with accents count as two). Give the file a shorter name and upload it again.",
            code="file_name_too_long",
            params={"size": size, "limit": FILE_NAME_MAX_BYTES},
        )
