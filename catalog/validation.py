"""Checks for the digital files sellers upload: accepted by CONTENT, never by name.

`validate_digital_file(upload)` streams the file once for its size and SHA-256, then
decides what it is from its bytes. The file name's extension plays no part at the top
level: a binary STL named ``model.pdf`` is an STL, and a text file named ``model.stl``
is refused. Anything wrong raises ``django.core.exceptions.ValidationError`` with a
message a seller can act on (what is wrong, what is accepted) and a stable ``code``.

Detection, in this order:

1. **Binary STL**: 80-byte header, little-endian uint32 triangle count N, then exactly
   N × 50 bytes (N ≥ 1). Checked first because binary headers may begin with "solid".
2. **ZIP** (``PK\\x03\\x04``). A ZIP holding ``[Content_Types].xml`` and a
   ``3D/….model`` part is a **3MF**; its model XML is parsed (DOCTYPE and ENTITY
   declarations refused, so no XML bombs) and its ``<triangle>`` elements counted.
3. **PDF**: starts with ``%PDF-`` and has ``%%EOF`` in its last 2 KB, and has no active
   content (JavaScript, open/automatic actions, launch, embedded files…, also inside
   compressed streams; `_refuse_active_pdf`), on its own or inside a ZIP.
4. **Images** (PNG, JPEG, GIF, WebP signatures): handed to
   `marketplace.uploads.validate_image_upload` (Pillow verify, format allowlist, pixel
   ceiling against decompression bombs).
5. **ASCII STL** (text starting with ``solid``): streamed line by line through the
   ``facet normal / outer loop / vertex ×3 / endloop / endfacet / endsolid`` grammar.
6. **OBJ** (text whose first statement is an OBJ statement): every line must be
   blank, a comment or one of ``v vt vn vp f l p o g s usemtl mtllib``; at least 3
   vertices and 1 face; face indices (negative ones too) must point at real vertices.
7. A non-text file that is *almost* a binary STL (its first records hold plausible
   floats but the size disagrees with the header) is refused as truncated or padded.
8. Anything else: "We accept STL, 3MF, OBJ, PDF instructions, images, or a ZIP of
   those. This file is none of them."

ZIP and 3MF safety (a 3MF is a ZIP, so it gets every rule):

* at most ``ARCHIVE_MAX_MEMBERS`` entries (junk and folders count: they cost work too);
* no absolute names, drive letters, ``..`` segments, backslashes or NUL bytes;
* no symlinks, no encrypted entries, no duplicate names;
* only Stored or Deflate compression: zipfile inflates bzip2/LZMA chunks without an
  output cap, so a lying header could balloon memory before any size check bites;
* no nested archives, by extension (.zip .rar .7z .tar .gz .tgz .bz2 .xz …) or by
  content (ZIP, gzip, 7z, RAR, xz, bzip2 signatures) — except that a plain ZIP may
  carry ``.3mf`` models, which are validated as 3MF (one level deep only);
* declared uncompressed total ≤ ``ARCHIVE_MAX_UNCOMPRESSED_BYTES``; each member and
  the whole archive at most ``ARCHIVE_MAX_RATIO`` : 1 (ignored below 1 MiB, where a
  "bomb" cannot hurt and tiny text files compress absurdly well). Declared sizes are
  not trusted: every member is inflated in chunks, counted against the same budget,
  and zipfile's CRC check catches a header that lies.

Members a plain ZIP may hold, by extension (secondary filter) and content (sniffed):
``.stl`` (binary size formula or ``solid`` text), ``.obj .mtl .txt .md .gcode``
(text: no control bytes), ``.3mf`` (a valid 3MF), ``.pdf`` (``%PDF-``), ``.png .jpg
.jpeg .webp .gif`` (an image signature, and under the pixel ceiling when the header
is readable). G-code is allowed: pre-sliced files are what many buyers want, and it
is plain text. Folders and OS junk (``__MACOSX/``, ``.DS_Store``, ``._*``,
``Thumbs.db``, ``desktop.ini``) are skipped, but still get the safety rules, the
program check below included. Inside
a 3MF, member types are open (slicers add configs, thumbnails, textures, and Bambu
Studio arbitrary "Auxiliaries"), except programs and scripts: refused by extension
(.exe .sh .js .html …) and by content (PE, ELF, Mach-O, ``#!``).

Limits, read from settings when called (defaults in brackets):
``DIGITAL_FILE_MAX_BYTES`` [250 MiB], ``ARCHIVE_MAX_MEMBERS`` [500],
``ARCHIVE_MAX_UNCOMPRESSED_BYTES`` [1 GiB], ``ARCHIVE_MAX_RATIO`` [200],
and ``IMAGE_MAX_PIXELS`` (through marketplace.uploads).
"""

import hashlib
import io
import math
import posixpath
import re
import struct
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from xml.parsers import expat

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from PIL import Image

from marketplace.uploads import validate_image_upload

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 250 * MIB
DEFAULT_ARCHIVE_MAX_MEMBERS = 500
DEFAULT_ARCHIVE_MAX_UNCOMPRESSED_BYTES = 1024 * MIB
DEFAULT_ARCHIVE_MAX_RATIO = 200
# Below this many bytes a high compression ratio is harmless (a 5 KB run of spaces
# compresses 300:1); the ratio rule only applies to members and archives above it.
RATIO_CHECK_MIN_BYTES = 1 * MIB

ACCEPTED_SUMMARY = "We accept STL, 3MF, OBJ, PDF instructions, images, or a ZIP of those."

_CHUNK = 1 * MIB
_HEAD_BYTES = 64 * 1024
_TAIL_BYTES = 2048
_MAX_TEXT_LINE = 64 * 1024
_STL_HEADER = 84
_STL_RECORD = 50

_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
_ARCHIVE_SIGNATURES = (
    b"PK\x03\x04",  # zip (and 3mf, docx, jar …)
    b"PK\x05\x06",  # empty zip
    b"\x1f\x8b",  # gzip
    b"7z\xbc\xaf\x27\x1c",  # 7-Zip
    b"Rar!\x1a\x07",  # RAR 4 and 5
    b"\xfd7zXZ\x00",  # xz
)
_ARCHIVE_EXTENSIONS = {
    ".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz",
    ".txz", ".zst", ".lz", ".lzma", ".cab", ".iso", ".3mf",
}  # fmt: skip
_JUNK_BASENAMES = {".ds_store", "thumbs.db", "desktop.ini"}
# A 3MF (or a junk entry in a ZIP) may carry any file but a program or script: a 3MF
# renamed .zip unpacks like any archive, junk folders included.
_PROGRAM_EXTENSIONS = {
    ".exe", ".dll", ".com", ".scr", ".msi", ".bat", ".cmd", ".ps1", ".vbs", ".wsf",
    ".sh", ".bash", ".command", ".app", ".dmg", ".pkg", ".deb", ".rpm", ".apk", ".jar",
    ".js", ".mjs", ".py", ".pl", ".rb", ".php", ".html", ".htm", ".hta", ".lnk",
}  # fmt: skip
_PROGRAM_SIGNATURES = (
    b"MZ",  # Windows PE
    b"\x7fELF",
    b"\xcf\xfa\xed\xfe",  # Mach-O 64-bit
    b"\xce\xfa\xed\xfe",  # Mach-O 32-bit
    b"\xca\xfe\xba\xbe",  # Mach-O universal (and Java class files)
    b"#!",  # scripts
)

# Member extension -> content family, for plain ZIPs.
_MEMBER_FAMILIES = {
    ".stl": "stl",
    ".obj": "text",
    ".mtl": "text",
    ".txt": "text",
    ".md": "text",
    ".gcode": "text",
    ".3mf": "3mf",
    ".pdf": "pdf",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".webp": "image",
    ".gif": "image",
}
ALLOWED_MEMBER_EXTENSIONS = tuple(_MEMBER_FAMILIES)
_FAMILY_NAMES = {
    "stl": "an STL model",
    "text": "plain text",
    "3mf": "a 3MF model",
    "pdf": "a PDF",
    "image": "a PNG, JPEG, WebP or GIF image",
}

_OBJ_KEYWORDS = {
    b"v", b"vt", b"vn", b"vp", b"f", b"l", b"p", b"o", b"g", b"s", b"usemtl", b"mtllib",
}  # fmt: skip
# Bytes no text model file contains (tab, LF, CR and form feed are fine).
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_3MF_CORE_NS = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"


@dataclass(frozen=True)
class ValidatedFile:
    """What an accepted upload turned out to be."""

    kind: str  # "stl" | "3mf" | "obj" | "pdf" | "image" | "zip"
    size: int  # bytes
    sha256: str  # hex digest of the whole file
    previewable: bool  # True for stl, 3mf, obj
    triangle_count: int | None = None
    members: tuple[str, ...] = ()  # zip/3mf: member names, without folders and junk


@dataclass(frozen=True)
class _Limits:
    max_bytes: int
    max_members: int
    max_uncompressed: int
    max_ratio: float


@dataclass
class _Budget:
    """Uncompressed bytes still allowed, shared by an archive and any 3MF inside it."""

    remaining: int


@dataclass
class _Scan:
    size: int = 0
    head: bytes = b""
    tail: bytes = b""
    has_control_bytes: bool = False
    spool: object = field(default=None, repr=False)


def _refuse(code: str, message: str, **params) -> ValidationError:
    return ValidationError(message, code=code, params=params or None)


def _limits(max_bytes: int | None) -> _Limits:
    return _Limits(
        max_bytes=max_bytes
        if max_bytes is not None
        else getattr(settings, "DIGITAL_FILE_MAX_BYTES", DEFAULT_MAX_BYTES),
        max_members=getattr(settings, "ARCHIVE_MAX_MEMBERS", DEFAULT_ARCHIVE_MAX_MEMBERS),
        max_uncompressed=getattr(
            settings, "ARCHIVE_MAX_UNCOMPRESSED_BYTES", DEFAULT_ARCHIVE_MAX_UNCOMPRESSED_BYTES
        ),
        max_ratio=getattr(settings, "ARCHIVE_MAX_RATIO", DEFAULT_ARCHIVE_MAX_RATIO),
    )


def validate_digital_file(upload, *, max_bytes: int | None = None) -> ValidatedFile:
    """Raise ValidationError unless `upload` is an STL, 3MF, OBJ, PDF, image or safe ZIP.

    `upload` is a Django UploadedFile or any seekable binary file object. The file is
    read in chunks, never whole, and is left positioned at its start.
    """
    limits = _limits(max_bytes)
    try:
        size = _measure(upload)
        if size is not None and size > limits.max_bytes:
            raise _too_large(size, limits.max_bytes)
        size, sha256, head, tail = _digest(upload, limits.max_bytes)
        if size == 0:
            raise _refuse("empty", "The file is empty.")
        return _detect(upload, size=size, sha256=sha256, head=head, tail=tail, limits=limits)
    finally:
        upload.seek(0)


def _too_large(size: int, limit: int) -> ValidationError:
    return _refuse(
        "too_large",
        "The file is %(size)s; the limit is %(limit)s.",
        size=filesizeformat(size),
        limit=filesizeformat(limit),
    )


def _measure(upload) -> int | None:
    try:
        upload.seek(0, io.SEEK_END)
        return upload.tell()
    except (AttributeError, OSError, ValueError, TypeError):
        return getattr(upload, "size", None)


def _digest(upload, max_bytes: int) -> tuple[int, str, bytes, bytes]:
    upload.seek(0)
    digest = hashlib.sha256()
    size = 0
    head = b""
    tail = b""
    while chunk := upload.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(size, max_bytes)  # a stream that lied about its size
        digest.update(chunk)
        if len(head) < _HEAD_BYTES:
            head += chunk[: _HEAD_BYTES - len(head)]
        tail = (tail + chunk)[-_TAIL_BYTES:]
    return size, digest.hexdigest(), head, tail


def _detect(upload, *, size, sha256, head, tail, limits) -> ValidatedFile:
    def result(kind, *, triangles=None, members=()):
        return ValidatedFile(
            kind=kind,
            size=size,
            sha256=sha256,
            previewable=kind in ("stl", "3mf", "obj"),
            triangle_count=triangles,
            members=members,
        )

    promised = _stl_promised_triangles(head)
    if promised is not None and size == _STL_HEADER + _STL_RECORD * promised:
        if promised == 0:
            raise _refuse("stl_empty", "This STL file contains no triangles.")
        return result("stl", triangles=promised)

    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        upload.seek(0)
        archive = _inspect_archive(upload, size=size, limits=limits, budget=_Budget(0))
        return result(archive.kind, triangles=archive.triangles, members=archive.members)

    if head.startswith(b"%PDF-"):
        if b"%%EOF" not in tail:
            raise _refuse(
                "pdf_incomplete",
                "This PDF is incomplete: its end-of-file marker is missing, so it was "
                "probably cut off while saving or uploading. Export it again and upload "
                "the new copy.",
            )
        upload.seek(0)
        _refuse_active_pdf(upload, size=size, label=None)
        return result("pdf")

    if _is_image_signature(head):
        upload.seek(0)
        validate_image_upload(upload, max_bytes=limits.max_bytes)
        return result("image")

    if not _CONTROL_BYTES.search(head):
        text = head.removeprefix(b"\xef\xbb\xbf")
        if text.lstrip()[:5].lower() == b"solid":
            return result("stl", triangles=_validate_ascii_stl(upload))
        if _first_statement_is_obj(text):
            return result("obj", triangles=_validate_obj(upload))
    elif promised and _plausible_binary_stl(head, promised):
        expected = _STL_HEADER + _STL_RECORD * promised
        if size < expected:
            raise _refuse(
                "stl_truncated",
                "This looks like a binary STL but it is truncated: the header promises "
                "%(n)s triangles (%(expected)s bytes) and the file has %(actual)s bytes. "
                "Export it again and upload the complete file.",
                n=f"{promised:,}",
                expected=f"{expected:,}",
                actual=f"{size:,}",
            )
        raise _refuse(
            "stl_size_mismatch",
            "This looks like a binary STL but it has extra data: the header promises "
            "%(n)s triangles (%(expected)s bytes) and the file has %(actual)s bytes. "
            "Export it again from your modelling program.",
            n=f"{promised:,}",
            expected=f"{expected:,}",
            actual=f"{size:,}",
        )

    raise _refuse("unknown_type", f"{ACCEPTED_SUMMARY} This file is none of them.")


# --- STL --------------------------------------------------------------------------


def _stl_promised_triangles(head: bytes) -> int | None:
    if len(head) < _STL_HEADER:
        return None
    return struct.unpack_from("<I", head, 80)[0]


def _plausible_binary_stl(head: bytes, promised: int) -> bool:
    """True when the first records hold numbers a mesh could contain.

    Random binary data passes this for one record about once in 5,000 tries, and we
    check up to 16; text never reaches here (it has no control bytes).
    """
    records = min(promised, (len(head) - _STL_HEADER) // _STL_RECORD, 16)
    if records < 1:
        return False
    for index in range(records):
        values = struct.unpack_from("<12f", head, _STL_HEADER + index * _STL_RECORD)
        for value in values:
            if not math.isfinite(value) or abs(value) > 1e9:
                return False
            if value != 0 and abs(value) < 1e-30:
                return False
    return True


def _iter_lines(upload, *, what: str):
    """Yield (line number, line without its line break) without loading the file.

    Refuses over-long lines and control bytes; the latter are searched for once per
    chunk (per line was a fifth of the run time), and reported with their line number.
    """
    upload.seek(0)
    pending = b""
    lineno = 0
    while chunk := upload.read(_CHUNK):
        data = pending + chunk
        control = _CONTROL_BYTES.search(data)
        bad_line = lineno + data.count(b"\n", 0, control.start()) + 1 if control else None
        lines = data.split(b"\n")
        pending = lines.pop()
        for line in lines:
            lineno += 1
            if lineno == bad_line:
                raise _binary_line(what, lineno)
            if len(line) > _MAX_TEXT_LINE:
                raise _line_too_long(what, lineno)
            yield lineno, line
        if len(pending) > _MAX_TEXT_LINE:
            raise _line_too_long(what, lineno + 1)
    if pending:
        if _CONTROL_BYTES.search(pending):
            raise _binary_line(what, lineno + 1)
        yield lineno + 1, pending


def _malformed(what: str) -> str:
    """The error code for a malformed text model: "ASCII STL" → "ascii_stl_malformed"."""
    return f"{what.lower().replace(' ', '_')}_malformed"


def _line_too_long(what: str, lineno: int) -> ValidationError:
    return _refuse(
        _malformed(what),
        "%(what)s line %(line)s is longer than 64 KB, so this is not a model file we can read.",
        what=what,
        line=lineno,
    )


def _numbers(words, *, lineno: int, what: str, label: str, counts: tuple[int, ...]):
    if len(words) in counts:  # fast path: the usual, valid line
        try:
            if all(map(math.isfinite, map(float, words))):
                return
        except ValueError:
            pass
    code = _malformed(what)
    if len(words) not in counts:
        wanted = " or ".join(str(count) for count in counts)
        raise _refuse(
            code,
            "%(what)s %(label)s line %(line)s has %(got)s numbers; it needs %(wanted)s.",
            what=what,
            label=label,
            line=lineno,
            got=len(words),
            wanted=wanted,
        )
    for word in words:
        try:
            value = float(word)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise _refuse(
                code,
                "%(what)s %(label)s line %(line)s has “%(word)s”, which is not a number.",
                what=what,
                label=label,
                line=lineno,
                word=word[:40].decode("latin-1"),
            )


def _validate_ascii_stl(upload) -> int:
    """Walk the ASCII STL grammar; return the facet count."""
    what = "ASCII STL"
    state = "start"
    expected = {
        "start": "“solid”",
        "solid": "“facet normal” or “endsolid”",
        "facet": "“outer loop”",
        "loop": "“vertex” or “endloop”",
        "endloop": "“endfacet”",
        "done": "“solid” or the end of the file",
    }
    facets = 0
    vertices = 0
    for lineno, line in _iter_lines(upload, what=what):
        words = line.split()
        if not words:
            continue
        keyword = words[0].lower()
        if state in ("start", "done") and keyword == b"solid":
            state = "solid"
        elif state == "solid" and keyword == b"facet":
            if len(words) < 2 or words[1].lower() != b"normal":
                raise _unexpected(what, lineno, expected[state], line)
            _numbers(words[2:], lineno=lineno, what=what, label="facet normal", counts=(3,))
            state = "facet"
        elif state == "solid" and keyword == b"endsolid":
            state = "done"
        elif state == "facet" and keyword == b"outer":
            if len(words) != 2 or words[1].lower() != b"loop":
                raise _unexpected(what, lineno, expected[state], line)
            state, vertices = "loop", 0
        elif state == "loop" and keyword == b"vertex":
            _numbers(words[1:], lineno=lineno, what=what, label="vertex", counts=(3,))
            vertices += 1
        elif state == "loop" and keyword == b"endloop":
            if vertices != 3:
                raise _refuse(
                    "ascii_stl_malformed",
                    "ASCII STL facet ending on line %(line)s has %(got)s vertices; every "
                    "facet needs exactly 3.",
                    line=lineno,
                    got=vertices,
                )
            state = "endloop"
        elif state == "endloop" and keyword == b"endfacet":
            facets += 1
            state = "solid"
        else:
            raise _unexpected(what, lineno, expected[state], line)
    if state != "done":
        raise _refuse(
            "ascii_stl_malformed",
            "The ASCII STL ends before “endsolid”, so the file looks cut off. Export it "
            "again and upload the complete file.",
        )
    if facets == 0:
        raise _refuse("stl_empty", "This STL file contains no triangles.")
    return facets


def _unexpected(what: str, lineno: int, expected: str, line: bytes) -> ValidationError:
    return _refuse(
        _malformed(what),
        "%(what)s line %(line)s: expected %(expected)s, found “%(found)s”.",
        what=what,
        line=lineno,
        expected=expected,
        found=line.strip()[:40].decode("latin-1"),
    )


def _binary_line(what: str, lineno: int) -> ValidationError:
    return _refuse(
        _malformed(what),
        "%(what)s line %(line)s contains binary data, so this is not a text model file.",
        what=what,
        line=lineno,
    )


# --- OBJ --------------------------------------------------------------------------


def _first_statement_is_obj(text: bytes) -> bool:
    for line in text.split(b"\n"):
        words = line.split()
        if not words or words[0].startswith(b"#"):
            continue
        return words[0] in _OBJ_KEYWORDS
    return False


def _validate_obj(upload) -> int:
    """Stream an OBJ; return its triangle count (an n-gon counts n − 2)."""
    what = "OBJ"
    code = "obj_malformed"
    vertex_count = 0
    face_count = 0
    triangles = 0
    highest = (0, 0)  # (largest positive vertex index, its line): checked at the end
    for lineno, line in _iter_lines(upload, what=what):
        words = line.split()
        if not words or words[0].startswith(b"#"):
            continue
        keyword = words[0]
        if keyword not in _OBJ_KEYWORDS:
            raise _refuse(
                code,
                "OBJ line %(line)s starts with “%(word)s”, which is not an OBJ statement.",
                line=lineno,
                word=keyword[:40].decode("latin-1"),
            )
        if keyword == b"v":
            _numbers(words[1:], lineno=lineno, what=what, label="vertex", counts=(3, 4, 6, 7))
            vertex_count += 1
        elif keyword == b"vn":
            _numbers(words[1:], lineno=lineno, what=what, label="normal", counts=(3,))
        elif keyword in (b"vt", b"vp"):
            _numbers(words[1:], lineno=lineno, what=what, label="texture", counts=(1, 2, 3))
        elif keyword in (b"f", b"l", b"p"):
            refs = words[1:]
            minimum = {b"f": 3, b"l": 2, b"p": 1}[keyword]
            if len(refs) < minimum:
                raise _refuse(
                    code,
                    "OBJ line %(line)s: a “%(kind)s” statement needs at least %(min)s "
                    "vertices; this one has %(got)s.",
                    line=lineno,
                    kind=keyword.decode(),
                    min=minimum,
                    got=len(refs),
                )
            for ref in refs:
                index = _obj_vertex_index(ref, lineno)
                if index < 0 and -index > vertex_count:
                    raise _bad_obj_index(lineno, index, vertex_count)
                if index > highest[0]:
                    highest = (index, lineno)
            if keyword == b"f":
                face_count += 1
                triangles += len(refs) - 2
    if vertex_count < 3 or face_count < 1:
        raise _refuse(
            code,
            "An OBJ model needs at least 3 vertices and 1 face; this one has "
            "%(v)s vertices and %(f)s faces.",
            v=vertex_count,
            f=face_count,
        )
    if highest[0] > vertex_count:
        raise _bad_obj_index(highest[1], highest[0], vertex_count)
    return triangles


def _obj_vertex_index(ref: bytes, lineno: int) -> int:
    parts = ref.split(b"/")
    try:
        if len(parts) > 3:
            raise ValueError
        index = int(parts[0])
        for other in parts[1:]:
            if other:
                int(other)
    except ValueError:
        index = 0
    if index == 0:
        raise _refuse(
            "obj_malformed",
            "OBJ line %(line)s: “%(ref)s” is not a vertex reference (expected forms "
            "like 3, 3/1, 3//2 or 3/1/2; numbering starts at 1).",
            line=lineno,
            ref=ref[:40].decode("latin-1"),
        )
    return index


def _bad_obj_index(lineno: int, index: int, vertex_count: int) -> ValidationError:
    return _refuse(
        "obj_malformed",
        "OBJ line %(line)s refers to vertex %(index)s, but only %(count)s vertices are defined.",
        line=lineno,
        index=index,
        count=vertex_count,
    )


# --- Images -----------------------------------------------------------------------


def _is_image_signature(head: bytes) -> bool:
    return head.startswith(_IMAGE_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


# --- ZIP and 3MF ------------------------------------------------------------------


@dataclass(frozen=True)
class _Archive:
    kind: str
    members: tuple[str, ...]
    triangles: int | None


def _label(name: str, parent: str | None) -> str:
    return f"“{name}” inside “{parent}”" if parent else f"“{name}”"


def _is_junk(name: str) -> bool:
    base = posixpath.basename(name.rstrip("/")).lower()
    return name.startswith("__MACOSX/") or base in _JUNK_BASENAMES or base.startswith("._")


def _extension(name: str) -> str:
    return posixpath.splitext(name.lower())[1]


def _is_3mf_layout(names) -> bool:
    lowered = [name.lower() for name in names]
    return "[content_types].xml" in lowered and any(
        name.startswith("3d/") and name.endswith(".model") for name in lowered
    )


def _inspect_archive(fileobj, *, size: int, limits: _Limits, budget: _Budget, parent=None):
    """Apply every ZIP safety rule; return what the archive holds."""
    outermost = parent is None
    if outermost:
        budget.remaining = limits.max_uncompressed
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _damaged(parent) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise _refuse(
                "zip_too_many_members",
                "The ZIP holds %(count)s entries; at most %(max)s are accepted. Put "
                "fewer files in it, or upload them separately.",
                count=len(infos),
                max=limits.max_members,
            )
        seen = set()
        for info in infos:
            _check_entry(info, parent)
            if info.filename in seen:
                raise _refuse(
                    "zip_duplicate",
                    "The ZIP holds %(name)s twice; every file must have its own name.",
                    name=_label(info.filename, parent),
                )
            seen.add(info.filename)
        is_3mf = _is_3mf_layout(seen)
        if parent and not is_3mf:
            raise _refuse(
                "3mf_invalid",
                "%(name)s is not a 3MF model: it lacks [Content_Types].xml or a 3D/….model "
                "part. Export it again from your slicer or CAD program.",
                name=_label(parent, None),
            )
        _check_sizes(infos, size=size, limits=limits, budget=budget, parent=parent)

        members = []
        triangles = 0
        for info in infos:
            if info.is_dir():
                continue
            name = info.filename
            junk = _is_junk(name)
            lowered = name.lower()
            counter = None
            if is_3mf and lowered.startswith("3d/") and lowered.endswith(".model"):
                counter = _TriangleCounter(_label(name, parent))
            family = None
            if not is_3mf and not junk:
                family = _member_family(name, parent)
            elif _extension(name) in _PROGRAM_EXTENSIONS:
                raise _program(name, parent, is_3mf=is_3mf)
            scan = _scan_member(
                archive,
                info,
                limits=limits,
                budget=budget,
                parent=parent,
                sink=counter.feed if counter else None,
                spool=family in ("3mf", "pdf"),
            )
            if counter:
                triangles += counter.finish()
            if not (family == "3mf" and not parent) and scan.head.startswith(_ARCHIVE_SIGNATURES):
                raise _nested(name, parent)
            if family is None and scan.head.startswith(_PROGRAM_SIGNATURES):
                raise _program(name, parent, is_3mf=is_3mf)
            if family:
                _check_member_content(name, family, scan, limits=limits, budget=budget)
            if not junk:
                members.append(name)

    if is_3mf:
        if triangles == 0:
            raise _refuse(
                "3mf_empty",
                "The 3MF file %(where)scontains no triangles, so there is no model to print.",
                where=f"{_label(parent, None)} " if parent else "",
            )
        return _Archive("3mf", tuple(members), triangles)
    if not members:
        raise _refuse(
            "zip_empty",
            "The ZIP holds no files. Add your models, instructions or pictures to it.",
        )
    return _Archive("zip", tuple(members), None)


def _damaged(parent: str | None) -> ValidationError:
    if parent:
        return _refuse(
            "zip_damaged",
            "%(name)s is damaged or incomplete, so it cannot be opened as a 3MF model.",
            name=_label(parent, None),
        )
    return _refuse(
        "zip_damaged",
        "The ZIP archive is damaged or incomplete. Create it again and upload the new copy.",
    )


def _check_entry(info: zipfile.ZipInfo, parent: str | None) -> None:
    raw = info.orig_filename
    name = info.filename
    segments = raw.split("/")
    if (
        "\x00" in raw
        or "\\" in raw
        or raw.startswith("/")
        or _DRIVE_LETTER.match(raw)
        or ".." in segments
    ):
        raise _refuse(
            "zip_unsafe_path",
            "The ZIP entry %(name)s has an unsafe name (an absolute path, a drive letter, "
            "“..” or a backslash) that could write outside the folder it is unpacked "
            "into. Re-create the ZIP from a plain folder.",
            name=_label(raw.replace("\x00", "\\0"), parent),
        )
    if (info.external_attr >> 16) & 0o170000 == 0o120000:
        raise _refuse(
            "zip_symlink",
            "The ZIP entry %(name)s is a symbolic link; links are not accepted. Put the "
            "real file in the ZIP instead.",
            name=_label(name, parent),
        )
    if info.flag_bits & 0x1:
        raise _refuse(
            "zip_encrypted",
            "The ZIP entry %(name)s is password-protected; buyers could not open it. "
            "Upload the ZIP without a password.",
            name=_label(name, parent),
        )
    if info.is_dir():
        return
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _refuse(
            "zip_compression",
            "The ZIP entry %(name)s uses a compression method we do not accept. "
            "Re-create the ZIP with standard (Deflate) compression.",
            name=_label(name, parent),
        )
    extension = _extension(name)
    if extension in _ARCHIVE_EXTENSIONS and not (extension == ".3mf" and parent is None):
        raise _nested(name, parent)


def _nested(name: str, parent: str | None) -> ValidationError:
    return _refuse(
        "zip_nested",
        "The ZIP entry %(name)s is itself an archive; archives inside archives are not "
        "accepted. Unpack it and add its files directly.",
        name=_label(name, parent),
    )


def _program(name: str, parent: str | None, *, is_3mf: bool) -> ValidationError:
    return _refuse(
        "zip_member_type",
        "The %(container)s entry %(name)s is a program or script; a %(container)s may hold "
        "models, slicer settings, pictures and documents, but not those.",
        container="3MF" if is_3mf else "ZIP",
        name=_label(name, parent),
    )


def _check_sizes(infos, *, size: int, limits: _Limits, budget: _Budget, parent) -> None:
    declared = sum(info.file_size for info in infos)
    if declared > budget.remaining:
        raise _unpacked_too_large(declared, limits.max_uncompressed)
    for info in infos:
        if info.file_size >= RATIO_CHECK_MIN_BYTES and (
            info.file_size / max(info.compress_size, 1) > limits.max_ratio
        ):
            raise _bomb(_label(info.filename, parent), info.file_size, info.compress_size)
    if declared >= RATIO_CHECK_MIN_BYTES and declared / max(size, 1) > limits.max_ratio:
        raise _bomb("The archive" if not parent else _label(parent, None), declared, size)


def _unpacked_too_large(size: int, limit: int) -> ValidationError:
    return _refuse(
        "zip_too_large",
        "Unpacked, the ZIP would take %(size)s; at most %(limit)s is accepted.",
        size=filesizeformat(size),
        limit=filesizeformat(limit),
    )


def _bomb(what: str, unpacked: int, packed: int) -> ValidationError:
    return _refuse(
        "zip_bomb",
        "%(what)s unpacks from %(packed)s to %(unpacked)s, a compression ratio we refuse "
        "because it is typical of a “zip bomb”. Upload the files uncompressed or in a "
        "normal ZIP.",
        what=what if what.startswith("The ") else f"The ZIP entry {what}",
        packed=filesizeformat(packed),
        unpacked=filesizeformat(unpacked),
    )


def _member_family(name: str, parent: str | None) -> str:
    family = _MEMBER_FAMILIES.get(_extension(name))
    if family is None:
        raise _refuse(
            "zip_member_type",
            "The ZIP entry %(name)s is not a file type we accept. A ZIP may hold STL, "
            "3MF, OBJ (with MTL), PDF, PNG, JPEG, WebP, GIF, TXT, MD and G-code files.",
            name=_label(name, parent),
        )
    return family


def _scan_member(archive, info, *, limits, budget: _Budget, parent, sink=None, spool=False):
    """Inflate one member in chunks, counting every byte against the budget."""
    scan = _Scan()
    if spool:
        scan.spool = tempfile.SpooledTemporaryFile(max_size=16 * MIB)  # noqa: SIM115
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                scan.size += len(chunk)
                budget.remaining -= len(chunk)
                if budget.remaining < 0:
                    spent = limits.max_uncompressed - budget.remaining
                    raise _unpacked_too_large(spent, limits.max_uncompressed)
                # zipfile stops at the declared size itself; this is belt and braces.
                if scan.size > info.file_size:
                    raise _bomb(_label(info.filename, parent), scan.size, info.compress_size)
                if len(scan.head) < _HEAD_BYTES:
                    scan.head += chunk[: _HEAD_BYTES - len(scan.head)]
                scan.tail = (scan.tail + chunk)[-_TAIL_BYTES:]
                if not scan.has_control_bytes and _CONTROL_BYTES.search(chunk):
                    scan.has_control_bytes = True
                if sink:
                    sink(chunk)
                if scan.spool:
                    scan.spool.write(chunk)
    except ValidationError:
        if scan.spool:
            scan.spool.close()
        raise
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError) as exc:
        if scan.spool:
            scan.spool.close()
        raise _refuse(
            "zip_damaged",
            "The ZIP entry %(name)s is damaged (its data does not match its header). "
            "Create the ZIP again and upload the new copy.",
            name=_label(info.filename, parent),
        ) from exc
    return scan


def _check_member_content(name: str, family: str, scan: _Scan, *, limits, budget) -> None:
    head = scan.head
    if family == "stl":
        promised = _stl_promised_triangles(head)
        ok = (
            promised is not None
            and promised > 0
            and scan.size == _STL_HEADER + _STL_RECORD * promised
        ) or (not scan.has_control_bytes and head.lstrip()[:5].lower() == b"solid")
    elif family == "text":
        ok = not scan.has_control_bytes
    elif family == "pdf":
        ok = head.startswith(b"%PDF-") and b"%%EOF" in scan.tail
        if ok:
            try:
                scan.spool.seek(0)
                _refuse_active_pdf(scan.spool, size=scan.size, label=name)
            finally:
                scan.spool.close()
    elif family == "image":
        ok = _is_image_signature(head)
        if ok:
            _check_member_pixels(name, head)
    else:  # 3mf: validated as an archive of its own, one level deep
        try:
            scan.spool.seek(0)
            _inspect_archive(scan.spool, size=scan.size, limits=limits, budget=budget, parent=name)
        finally:
            scan.spool.close()
        ok = True
    if not ok:
        raise _refuse(
            "zip_member_mismatch",
            "The ZIP entry %(name)s is named like %(family)s but its content is not. "
            "Check the file and add the right one.",
            name=_label(name, None),
            family=_FAMILY_NAMES[family],
        )


def _check_member_pixels(name: str, head: bytes) -> None:
    """Refuse image members over the pixel ceiling when the header is in `head`."""
    max_pixels = getattr(settings, "IMAGE_MAX_PIXELS", 40_000_000)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(head)) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        width = height = max_pixels  # Pillow already judged it far too large
    except Exception:  # header beyond our sniff window, or odd data: the signature stands
        return
    if width * height > max_pixels:
        raise _refuse(
            "zip_image_too_large",
            "The image %(name)s in the ZIP is too large to open safely (at most %(max)s "
            "million pixels are accepted).",
            name=_label(name, None),
            max=max_pixels // 1_000_000,
        )


class _TriangleCounter:
    """Counts 3MF <triangle> elements in streamed model XML, refusing DTDs and entities."""

    def __init__(self, label: str):
        self.label = label
        self.count = 0
        self.parser = expat.ParserCreate(namespace_separator="|")
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartDoctypeDeclHandler = self._refuse_declaration
        self.parser.EntityDeclHandler = self._refuse_declaration
        self.parser.StartElementHandler = self._start

    def _refuse_declaration(self, *args):
        raise _refuse(
            "3mf_unsafe_xml",
            "The 3MF model %(name)s declares a DOCTYPE or entities, which 3MF files never "
            "need and which can hide an “XML bomb”. Export the model again.",
            name=self.label,
        )

    def _start(self, name, attrs):
        namespace, _, local = name.rpartition("|")
        if local == "triangle" and namespace in ("", _3MF_CORE_NS):
            self.count += 1

    def feed(self, chunk: bytes) -> None:
        try:
            self.parser.Parse(chunk, False)
        except expat.ExpatError as exc:
            raise self._malformed(exc) from exc

    def finish(self) -> int:
        try:
            self.parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise self._malformed(exc) from exc
        return self.count

    def _malformed(self, exc: expat.ExpatError) -> ValidationError:
        return _refuse(
            "3mf_invalid",
            "The 3MF model %(name)s is not valid XML (%(error)s). Export the model again.",
            name=self.label,
            error=expat.errors.messages[exc.code] + f" at line {exc.lineno}",
        )


# ------------------------------------------------------------------------------
# PDF active content
# ------------------------------------------------------------------------------
# Names that make a PDF do something when opened or clicked (run script, launch a
# program, submit or import data, carry other files): instructions need none of them.
_PDF_ACTIVE_NAMES = {
    b"javascript": "JavaScript",
    b"js": "JavaScript",
    b"openaction": "an action that runs when it opens",
    b"aa": "automatic actions",
    b"launch": "a command that launches a program",
    b"embeddedfile": "embedded files",
    b"embeddedfiles": "embedded files",
    b"richmedia": "embedded media",
    b"submitform": "a form that sends data",
    b"importdata": "a form that imports data",
    b"xfa": "an XFA form",
}
_PDF_NAME = re.compile(rb"/([A-Za-z0-9#_.+\-]+)")
_PDF_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n")
PDF_SCAN_MAX_BYTES = 64 * MIB
PDF_INFLATE_MAX_BYTES = 128 * MIB


def _pdf_active_name(data: bytes) -> str | None:
    for match in _PDF_NAME.finditer(data):
        # `#xx` escapes spell the same name (/J#61vaScript is /JavaScript).
        name = _PDF_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1)).lower()
        if name in _PDF_ACTIVE_NAMES:
            return _PDF_ACTIVE_NAMES[name]
    return None


def _refuse_active_pdf(fileobj, *, size: int, label: str | None) -> None:
    """Refuse a PDF with active content: a name such as /JavaScript, /JS, /OpenAction,
    /AA, /Launch or /EmbeddedFile anywhere in the file, `#xx`-escaped or not, or inside
    a Flate-compressed stream (object streams hide dictionaries there). Reads at most
    PDF_SCAN_MAX_BYTES and inflates at most PDF_INFLATE_MAX_BYTES in all."""
    where = f"The PDF {_label(label, None)}" if label else "This PDF"
    if size > PDF_SCAN_MAX_BYTES:
        raise _refuse(
            "pdf_too_large",
            "%(where)s is larger than %(limit)s, too large for us to check. Save it with "
            "smaller images and upload it again.",
            where=where,
            limit=filesizeformat(PDF_SCAN_MAX_BYTES),
        )
    data = fileobj.read(PDF_SCAN_MAX_BYTES + 1)
    found = _pdf_active_name(data)
    budget = PDF_INFLATE_MAX_BYTES
    for match in _PDF_STREAM.finditer(data):
        if found or budget <= 0:
            break
        start = match.end()
        end = data.find(b"endstream", start)
        if end < 0:
            break
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(data[start:end], budget)
        except zlib.error:
            continue  # not Flate (or damaged): its raw bytes were scanned above
        budget -= len(inflated)
        found = _pdf_active_name(inflated)
    if found is None and budget <= 0:
        found = "more compressed content than we can check"
    if found:
        raise _refuse(
            "pdf_active_content",
            "%(where)s contains %(what)s. We only accept documents without active "
            'content: print or export it again as a plain PDF (e.g. "Print to PDF").',
            where=where,
            what=found,
        )
