"""The 3D preview copy: a coarse, thinned-out binary STL for the product page viewer.

Buyers see the model in a three.js viewer before paying. The viewer never loads the
paid original; it loads what `mesh_preview_from_file` returns:

* at most ``MESH_PREVIEW_MAX_TRIANGLES`` triangles [60,000] and at most one in
  ``MESH_PREVIEW_MIN_STRIDE`` [2], chosen as every k-th triangle with
  k = max(min stride, ceil(total / cap)), so the result is deterministic and spread
  evenly over the model, and even a small model's preview is open everywhere (the
  holes are the point: it is not a printable copy);
* every coordinate snapped to a grid of 1/``MESH_PREVIEW_GRID_STEPS`` [256] of the
  model's largest bounding-box side, so the preview is not a print-quality copy;
* normals recomputed from the snapped corners (zero for collapsed triangles);
* an 80-byte header starting with ``b"Home Craft 3D preview"``.

Inputs: binary STL (read in chunks with struct), ASCII STL, OBJ (faces fan-
triangulated; negative indices and ``v/vt/vn`` forms handled) and 3MF (meshes from
every ``3D/*.model`` part, placed by build items and components, including the
production extension's ``p:path`` used by PrusaSlicer and Bambu Studio). Files are
streamed: text formats are read in two or three passes rather than held in memory.
Only 3MF keeps one mesh's vertices at a time, and OBJ only the vertices it needs.

Anything that cannot be read as a mesh raises ValueError with a message that says why.
Inputs are expected to have passed `catalog.validation.validate_digital_file`; this
module still refuses XML DTDs/entities and never trusts counts it has not checked.
"""

import math
import posixpath
import struct
import zipfile
from array import array
from collections import defaultdict
from xml.parsers import expat

from django.conf import settings

PREVIEW_MAX_TRIANGLES = 60_000
PREVIEW_GRID_STEPS = 256
PREVIEW_MIN_STRIDE = 2
PREVIEW_HEADER = b"Home Craft 3D preview"

_CHUNK = 1024 * 1024
_MAX_LINE = 1024 * 1024
_STL_RECORD = struct.Struct("<12fH")
_MAX_COMPONENT_DEPTH = 32
_CORE_NS = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
_PRODUCTION_NS = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06"
_IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)


def preview_min_stride() -> int:
    """Keep at most one triangle in this many, however small the model: the preview of a
    closed model is always full of holes (docs/DECISIONS.md, "not a printable copy")."""
    return max(1, getattr(settings, "MESH_PREVIEW_MIN_STRIDE", PREVIEW_MIN_STRIDE))


def preview_max_triangles() -> int:
    return getattr(settings, "MESH_PREVIEW_MAX_TRIANGLES", PREVIEW_MAX_TRIANGLES)


def mesh_preview_from_file(fileobj, *, kind: str) -> bytes:
    """Return a binary STL preview of the mesh in `fileobj` (kind "stl", "obj" or "3mf").

    `fileobj` must be seekable; it is left positioned at its start.
    """
    cap = preview_max_triangles()
    if cap < 1:
        raise ValueError("MESH_PREVIEW_MAX_TRIANGLES must be at least 1.")
    readers = {"stl": _stl_triangles, "obj": _obj_triangles, "3mf": _3mf_triangles}
    if kind not in readers:
        raise ValueError(f"Cannot preview “{kind}” files; expected one of stl, obj or 3mf.")
    try:
        triangles = readers[kind](fileobj, cap)
    finally:
        fileobj.seek(0)
    if not triangles:
        raise ValueError("The model has no usable triangles to preview.")
    steps = getattr(settings, "MESH_PREVIEW_GRID_STEPS", PREVIEW_GRID_STEPS)
    return _write_binary_stl(_quantize(triangles, steps))


class _EveryKth:
    """Keeps triangles 0, k, 2k, … of a stream whose length is known in advance."""

    def __init__(self, total: int, cap: int):
        self.stride = max(preview_min_stride(), math.ceil(total / cap))
        self.index = 0

    def take(self) -> bool:
        keep = self.index % self.stride == 0
        self.index += 1
        return keep


def _finite(values) -> bool:
    return all(math.isfinite(value) for value in values)


# --- STL --------------------------------------------------------------------------


def _size(fileobj) -> int:
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(0)
    return size


def _stl_triangles(fileobj, cap: int) -> list[tuple]:
    size = _size(fileobj)
    head = fileobj.read(84)
    if len(head) == 84:
        promised = struct.unpack_from("<I", head, 80)[0]
        if promised and size == 84 + 50 * promised:
            return _binary_stl_triangles(fileobj, promised, cap)
    if head.lstrip()[:5].lower() == b"solid":
        return _ascii_stl_triangles(fileobj, cap)
    raise ValueError(
        "This is neither a binary STL (its size does not match the triangle count in its "
        "header) nor an ASCII STL (it does not start with “solid”)."
    )


def _binary_stl_triangles(fileobj, total: int, cap: int) -> list[tuple]:
    sampler = _EveryKth(total, cap)
    kept = []
    fileobj.seek(84)
    per_chunk = _CHUNK // 50
    done = 0
    while done < total:
        records = min(per_chunk, total - done)
        chunk = fileobj.read(records * 50)
        if len(chunk) != records * 50:
            raise ValueError("The binary STL ended before all its triangles were read.")
        # Jump straight to this chunk's every-k-th records instead of visiting each one.
        for record in range((-done) % sampler.stride, records, sampler.stride):
            corners = _STL_RECORD.unpack_from(chunk, record * 50)[3:12]
            if _finite(corners):
                kept.append(corners)
        done += records
    return kept


def _iter_lines(fileobj):
    fileobj.seek(0)
    pending = b""
    lineno = 0
    while chunk := fileobj.read(_CHUNK):
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        if len(pending) > _MAX_LINE:
            raise ValueError(f"Line {lineno + len(lines) + 1} is longer than 1 MB.")
        for line in lines:
            lineno += 1
            yield lineno, line
    if pending:
        yield lineno + 1, pending


def _floats(words, lineno: int, what: str) -> tuple[float, ...]:
    try:
        values = tuple(float(word) for word in words)
    except ValueError:
        raise ValueError(f"{what} on line {lineno} has a value that is not a number.") from None
    if not _finite(values):
        raise ValueError(f"{what} on line {lineno} has a value that is not a finite number.")
    return values


def _ascii_stl_triangles(fileobj, cap: int) -> list[tuple]:
    total = 0
    for _, line in _iter_lines(fileobj):
        words = line.split(None, 1)
        if words and words[0].lower() == b"endfacet":
            total += 1
    if total == 0:
        raise ValueError("The ASCII STL has no facets.")
    sampler = _EveryKth(total, cap)
    kept = []
    loop: list[float] = []
    for lineno, line in _iter_lines(fileobj):
        words = line.split()
        if not words:
            continue
        keyword = words[0].lower()
        if keyword == b"outer":
            loop = []
        elif keyword == b"vertex":
            if len(words) != 4:
                raise ValueError(f"The vertex on line {lineno} needs 3 numbers.")
            loop.extend(_floats(words[1:], lineno, "The vertex"))
        elif keyword == b"endfacet":
            if len(loop) != 9:
                raise ValueError(f"The facet ending on line {lineno} does not have 3 vertices.")
            if sampler.take():
                kept.append(tuple(loop))
            loop = []
    return kept


# --- OBJ --------------------------------------------------------------------------


def _obj_face_indices(words, vertex_count: int, lineno: int) -> list[int]:
    """0-based vertex indices of a face line's references (`v`, `v/vt`, `v//vn`, …)."""
    indices = []
    for ref in words:
        try:
            index = int(ref.split(b"/", 1)[0])
        except ValueError:
            raise ValueError(f"The face on line {lineno} has a bad vertex reference.") from None
        if index > 0:
            indices.append(index - 1)
        elif index < 0 and -index <= vertex_count:
            indices.append(vertex_count + index)  # relative: -1 is the latest vertex
        else:
            raise ValueError(f"The face on line {lineno} refers to a vertex that does not exist.")
    return indices


def _obj_triangles(fileobj, cap: int) -> list[tuple]:
    # Pass 1: count triangles, so every k-th can be taken with k fixed.
    total = 0
    for _, line in _iter_lines(fileobj):
        if line.lstrip()[:2] in (b"f ", b"f\t"):
            total += max(0, len(line.split()) - 3)
    if total == 0:
        raise ValueError("The OBJ has no faces.")

    # Pass 2: pick the triangles (as vertex indices) and note which vertices they use.
    sampler = _EveryKth(total, cap)
    picked: list[tuple[int, int, int]] = []
    vertex_count = 0
    for lineno, line in _iter_lines(fileobj):
        words = line.split()
        if not words:
            continue
        if words[0] == b"v":
            vertex_count += 1
        elif words[0] == b"f" and len(words) >= 4:
            indices = None
            for corner in range(1, len(words) - 2):  # fan: (0, i, i + 1)
                if sampler.take():
                    if indices is None:
                        indices = _obj_face_indices(words[1:], vertex_count, lineno)
                    picked.append((indices[0], indices[corner], indices[corner + 1]))
    needed = {index for triangle in picked for index in triangle}
    if max(needed) >= vertex_count:
        raise ValueError(
            f"A face refers to vertex {max(needed) + 1}, but the OBJ defines only "
            f"{vertex_count} vertices."
        )

    # Pass 3: fetch just those vertices.
    positions: dict[int, tuple[float, float, float]] = {}
    index = 0
    for lineno, line in _iter_lines(fileobj):
        words = line.split()
        if words and words[0] == b"v":
            if index in needed:
                if len(words) < 4:
                    raise ValueError(f"The vertex on line {lineno} needs 3 numbers.")
                positions[index] = _floats(words[1:4], lineno, "The vertex")
            index += 1
    return [positions[a] + positions[b] + positions[c] for a, b, c in picked]


# --- 3MF --------------------------------------------------------------------------


def _matrix(text: str | None) -> tuple[float, ...]:
    """A 3MF transform: 12 numbers, row-vector convention (p' = p · M)."""
    if not text:
        return _IDENTITY
    try:
        values = tuple(float(word) for word in text.split())
    except ValueError:
        values = ()
    if len(values) != 12 or not _finite(values):
        raise ValueError(f"The 3MF model has a bad transform: “{text[:80]}”.")
    return values


def _compose(first, then) -> tuple[float, ...]:
    """The transform that applies `first`, then `then`."""
    a, b = first, then
    linear = []
    for row in range(3):
        for col in range(3):
            linear.append(sum(a[row * 3 + k] * b[k * 3 + col] for k in range(3)))
    translation = [
        sum(a[9 + k] * b[k * 3 + col] for k in range(3)) + b[9 + col] for col in range(3)
    ]
    return (*linear, *translation)


def _apply(m, x: float, y: float, z: float) -> tuple[float, float, float]:
    return (
        x * m[0] + y * m[3] + z * m[6] + m[9],
        x * m[1] + y * m[4] + z * m[7] + m[10],
        x * m[2] + y * m[5] + z * m[8] + m[11],
    )


def _part_name(path: str | None, current: str) -> str:
    if not path:
        return current
    return posixpath.normpath(path).lstrip("/")


def _parse_part(archive: zipfile.ZipFile, name: str, start, end=None) -> None:
    parser = expat.ParserCreate(namespace_separator="|")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args):
        raise ValueError(f"The 3MF part “{name}” declares a DOCTYPE or entities; refused.")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse

    def on_start(tag, attrs):
        namespace, _, local = tag.rpartition("|")
        if namespace in ("", _CORE_NS):
            start(local, attrs)

    parser.StartElementHandler = on_start
    if end:

        def on_end(tag):
            namespace, _, local = tag.rpartition("|")
            if namespace in ("", _CORE_NS):
                end(local)

        parser.EndElementHandler = on_end
    try:
        with archive.open(name) as part:
            while chunk := part.read(_CHUNK):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise ValueError(f"The 3MF part “{name}” is not valid XML ({exc}).") from exc


def _3mf_triangles(fileobj, cap: int) -> list[tuple]:
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError("This 3MF is not a readable ZIP package.") from exc
    with archive:
        try:
            return _3mf_read(archive, cap)
        except (zipfile.BadZipFile, EOFError, KeyError, NotImplementedError, RuntimeError) as exc:
            raise ValueError(f"This 3MF package is damaged ({exc}).") from exc


def _3mf_root(archive: zipfile.ZipFile, parts: list[str]) -> str:
    root = None
    if "_rels/.rels" in archive.namelist():

        def on_relationship(local, attrs):
            nonlocal root
            if local == "Relationship" and attrs.get("Type", "").endswith("/3dmodel"):
                root = root or _part_name(attrs.get("Target"), "")

        parser_ns = "http://schemas.openxmlformats.org/package/2006/relationships"
        parser = expat.ParserCreate(namespace_separator="|")
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

        def refuse(*_args):
            raise ValueError("The 3MF relationships part declares a DOCTYPE; refused.")

        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        parser.StartElementHandler = lambda tag, attrs: on_relationship(
            tag.removeprefix(parser_ns + "|"), attrs
        )
        try:
            parser.Parse(archive.read("_rels/.rels")[:_CHUNK], True)
        except expat.ExpatError:
            root = None
    if root in parts:
        return root
    return "3D/3dmodel.model" if "3D/3dmodel.model" in parts else parts[0]


def _3mf_read(archive: zipfile.ZipFile, cap: int) -> list[tuple]:
    parts = [
        name
        for name in archive.namelist()
        if name.lower().startswith("3d/") and name.lower().endswith(".model")
    ]
    if not parts:
        raise ValueError("This 3MF has no 3D/….model part.")
    root = _3mf_root(archive, parts)

    # Pass 1: triangles per mesh object, components, and the build.
    triangle_counts: dict[tuple[str, str], int] = defaultdict(int)
    components: dict[tuple[str, str], list] = defaultdict(list)
    build: list[tuple[tuple[str, str], tuple]] = []
    path_attr = f"{_PRODUCTION_NS}|path"
    for part in parts:
        current = None

        def start(local, attrs, part=part):
            nonlocal current
            if local == "object":
                current = (part, attrs.get("id", ""))
            elif local == "triangle" and current:
                triangle_counts[current] += 1
            elif local == "component" and current:
                target = (_part_name(attrs.get(path_attr), part), attrs.get("objectid", ""))
                components[current].append((target, _matrix(attrs.get("transform"))))
            elif local == "item" and part == root:
                target = (_part_name(attrs.get(path_attr), part), attrs.get("objectid", ""))
                build.append((target, _matrix(attrs.get("transform"))))

        def end(local):
            nonlocal current
            if local == "object":
                current = None

        _parse_part(archive, part, start, end)

    # Where each mesh appears: build items place objects; components nest them.
    placements: dict[tuple[str, str], list] = defaultdict(list)

    def place(key, matrix, depth):
        if depth > _MAX_COMPONENT_DEPTH:
            raise ValueError("The 3MF components nest too deeply (or refer to themselves).")
        if triangle_counts.get(key):
            placements[key].append(matrix)
        for child, child_matrix in components.get(key, ()):
            place(child, _compose(child_matrix, matrix), depth + 1)

    if build:
        for key, matrix in build:
            place(key, matrix, 0)
    else:  # no build section: show every mesh where it was modelled
        for key in list(triangle_counts):
            placements[key].append(_IDENTITY)
    total = sum(triangle_counts[key] * len(matrices) for key, matrices in placements.items())
    if total == 0:
        raise ValueError("The 3MF model has no triangles.")

    # Pass 2: one mesh's vertices at a time; emit every k-th placed triangle.
    sampler = _EveryKth(total, cap)
    kept = []
    for part in parts:
        state = {"matrices": None, "vertices": array("d")}

        def start(local, attrs, part=part, state=state):
            if local == "object":
                state["matrices"] = placements.get((part, attrs.get("id", "")))
                state["vertices"] = array("d")
            elif not state["matrices"]:
                return
            elif local == "vertex":
                try:
                    xyz = (float(attrs["x"]), float(attrs["y"]), float(attrs["z"]))
                except (KeyError, ValueError):
                    raise ValueError(f"A vertex in “{part}” lacks a numeric x, y or z.") from None
                state["vertices"].extend(xyz)
            elif local == "triangle":
                vertices = state["vertices"]
                try:
                    corners = [int(attrs[f"v{n}"]) for n in (1, 2, 3)]
                except (KeyError, ValueError):
                    raise ValueError(f"A triangle in “{part}” lacks v1, v2 or v3.") from None
                if any(not 0 <= c < len(vertices) // 3 for c in corners):
                    raise ValueError(f"A triangle in “{part}” refers to a missing vertex.")
                for matrix in state["matrices"]:
                    if sampler.take():
                        triangle = []
                        for c in corners:
                            triangle.extend(_apply(matrix, *vertices[c * 3 : c * 3 + 3]))
                        if _finite(triangle):
                            kept.append(tuple(triangle))

        _parse_part(archive, part, start)
    return kept


# --- Output -----------------------------------------------------------------------


def _quantize(triangles: list[tuple], steps: int) -> list[tuple]:
    lows = [min(t[axis + 3 * c] for t in triangles for c in range(3)) for axis in range(3)]
    highs = [max(t[axis + 3 * c] for t in triangles for c in range(3)) for axis in range(3)]
    extent = max(high - low for low, high in zip(lows, highs, strict=True))
    if not extent > 0 or not math.isfinite(extent):
        raise ValueError("The model has no size: all its vertices are in one place.")
    step = extent / steps

    def snap(value: float, axis: int) -> float:
        return lows[axis] + round((value - lows[axis]) / step) * step

    return [tuple(snap(value, index % 3) for index, value in enumerate(t)) for t in triangles]


def _normal(t) -> tuple[float, float, float]:
    ux, uy, uz = t[3] - t[0], t[4] - t[1], t[5] - t[2]
    vx, vy, vz = t[6] - t[0], t[7] - t[1], t[8] - t[2]
    nx, ny, nz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
    length = math.sqrt(nx * nx + ny * ny + nz * nz)
    if length == 0:
        return (0.0, 0.0, 0.0)
    return (nx / length, ny / length, nz / length)


def _write_binary_stl(triangles: list[tuple]) -> bytes:
    out = bytearray(PREVIEW_HEADER.ljust(80, b" "))
    out += struct.pack("<I", len(triangles))
    for t in triangles:
        out += _STL_RECORD.pack(*_normal(t), *t, 0)
    return bytes(out)
