"""3D-model, PDF and archive bytes made in code for upload and preview tests.

Everything is small and built in memory, so tests stay fast. Hostile files (zip bombs,
path traversal, symlinks, encrypted entries, lying headers) are made by building a
normal archive and patching its header fields, as an attacker would.
"""

import io
import math
import struct
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

Triangle = tuple[float, float, float, float, float, float, float, float, float]

CORE_NS = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
PRODUCTION_NS = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06"


def detailed_triangles(count: int) -> list[Triangle]:
    """`count` distinct triangles whose coordinates sit off any coarse grid."""
    triangles = []
    for i in range(count):
        angle = i * 0.0123
        x = 10 * math.cos(angle) + 0.000123 * i
        y = 10 * math.sin(angle) - 0.000071 * i
        z = 0.01 * i + 0.123456
        triangles.append((x, y, z, x + 0.5, y + 0.0137, z, x, y + 0.5, z + 0.0071))
    return triangles


def binary_stl(
    triangles: int = 1,
    *,
    header: bytes = b"Home Craft 3D test model",
    count: int | None = None,
    triangle_list: list[Triangle] | None = None,
    trailing: bytes = b"",
) -> bytes:
    """A binary STL. `count` overrides the header's triangle count (to make it lie)."""
    triangle_list = triangle_list if triangle_list is not None else detailed_triangles(triangles)
    body = b"".join(struct.pack("<12fH", 0, 0, 1, *tri, 0) for tri in triangle_list)
    promised = len(triangle_list) if count is None else count
    return header.ljust(80, b" ")[:80] + struct.pack("<I", promised) + body + trailing


def ascii_stl(
    triangles: int = 1, *, name: str = "test", triangle_list: list[Triangle] | None = None
) -> bytes:
    triangle_list = triangle_list if triangle_list is not None else detailed_triangles(triangles)
    lines = [f"solid {name}"]
    for tri in triangle_list:
        lines += ["  facet normal 0 0 1", "    outer loop"]
        for corner in range(3):
            x, y, z = tri[corner * 3 : corner * 3 + 3]
            lines.append(f"      vertex {x!r} {y!r} {z!r}")
        lines += ["    endloop", "  endfacet"]
    lines.append(f"endsolid {name}")
    return ("\n".join(lines) + "\n").encode()


SQUARE_VERTICES = ((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (1.0, 1.0, 0.0), (0.0, 1.0, 0.0))


def obj_text(
    vertices=SQUARE_VERTICES,
    faces=((1, 2, 3, 4),),
    *,
    comment: str = "made in tests",
    extra_lines: tuple[str, ...] = (),
) -> bytes:
    """An OBJ. Faces are sequences of references: ints or strings like "1/2/3" or -1."""
    lines = [f"# {comment}", "o model"]
    lines += [f"v {x!r} {y!r} {z!r}" for x, y, z in vertices]
    lines += list(extra_lines)
    lines += ["f " + " ".join(str(ref) for ref in face) for face in faces]
    return ("\n".join(lines) + "\n").encode()


def model_xml(
    triangle_list: list[Triangle] | None = None,
    *,
    triangles: int = 1,
    prolog: str = "",
) -> bytes:
    """A 3MF model part with one mesh object and one build item."""
    triangle_list = triangle_list if triangle_list is not None else detailed_triangles(triangles)
    vertices = []
    faces = []
    for index, tri in enumerate(triangle_list):
        for corner in range(3):
            x, y, z = tri[corner * 3 : corner * 3 + 3]
            vertices.append(f'<vertex x="{x!r}" y="{y!r}" z="{z!r}"/>')
        faces.append(f'<triangle v1="{3 * index}" v2="{3 * index + 1}" v3="{3 * index + 2}"/>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + prolog
        + f'<model unit="millimeter" xmlns="{CORE_NS}">'
        + '<resources><object id="1" type="model"><mesh>'
        + "<vertices>"
        + "".join(vertices)
        + "</vertices><triangles>"
        + "".join(faces)
        + "</triangles></mesh></object></resources>"
        + '<build><item objectid="1"/></build></model>'
    ).encode()


CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="model" '
    b'ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>'
    b"</Types>"
)
ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Target="/3D/3dmodel.model" Id="rel0" '
    b'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/>'
    b"</Relationships>"
)

# Classic "billion laughs": entities that expand to gigabytes if a parser allows them.
XML_BOMB_PROLOG = (
    '<!DOCTYPE model [<!ENTITY a "hahahahahahahahahaha">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
)


def three_mf(
    triangles: int = 1,
    *,
    model: bytes | None = None,
    extra_members: dict[str, bytes] | None = None,
    model_name: str = "3D/3dmodel.model",
) -> bytes:
    """A 3MF package: content types, root relationships and one model part."""
    members = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        model_name: model if model is not None else model_xml(triangles=triangles),
    }
    members.update(extra_members or {})
    return zip_of(members)


def zip_of(
    members: dict[str, bytes],
    *,
    symlink_names: tuple[str, ...] = (),
    encrypted_names: tuple[str, ...] = (),
    compression: int = zipfile.ZIP_DEFLATED,
    compresslevel: int | None = None,
) -> bytes:
    """A ZIP of `members`. Names ending in "/" become folders.

    `symlink_names` are stored with Unix symlink mode bits (their content is the link
    target); `encrypted_names` get the "encrypted" flag set in their headers.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression, compresslevel=compresslevel) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            if name in symlink_names:
                info.create_system = 3
                info.external_attr = 0o120777 << 16
            elif name.endswith("/"):
                info.external_attr = (0o40755 << 16) | 0x10
            else:
                info.external_attr = 0o100644 << 16
            archive.writestr(info, content)
    data = buffer.getvalue()
    for name in encrypted_names:
        data = patch_zip_entry(data, name, set_flag_bits=0x1)
    return data


def patch_zip_entry(
    data: bytes,
    name: str,
    *,
    set_flag_bits: int = 0,
    file_size: int | None = None,
    compress_type: int | None = None,
) -> bytes:
    """Rewrite header fields of one member in both its local and central headers."""
    out = bytearray(data)
    eocd = data.rindex(b"PK\x05\x06")
    entries, _, cd_offset = struct.unpack_from("<HII", data, eocd + 10)
    position = cd_offset
    encoded = name.encode()
    for _ in range(entries):
        assert data[position : position + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, position + 28)
        local = struct.unpack_from("<I", data, position + 42)[0]
        entry_name = data[position + 46 : position + 46 + name_len]
        if entry_name == encoded:
            for header, flags_at, method_at, usize_at in (
                (position, 8, 10, 24),
                (local, 6, 8, 22),
            ):
                flags = struct.unpack_from("<H", out, header + flags_at)[0]
                struct.pack_into("<H", out, header + flags_at, flags | set_flag_bits)
                if file_size is not None:
                    struct.pack_into("<I", out, header + usize_at, file_size)
                if compress_type is not None:
                    struct.pack_into("<H", out, header + method_at, compress_type)
            return bytes(out)
        position += 46 + name_len + extra_len + comment_len
    raise KeyError(name)


def zip_bomb(megabytes: int = 20, *, name: str = "model.stl") -> bytes:
    """One member of zeros: 20 MB packs into about 20 KB, a ratio near 1000:1."""
    return zip_of({name: bytes(megabytes * 1024 * 1024)}, compresslevel=9)


def pdf_bytes(text: str = "Assembly instructions") -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    return (
        b"%PDF-1.4\n"
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> "
        b"endobj\n"
        b"4 0 obj << /Length " + str(len(stream)).encode() + b" >> stream\n" + stream + b"\n"
        b"endstream endobj\n"
        b"trailer << /Root 1 0 R >>\n"
        b"%%EOF\n"
    )


def parse_binary_stl(data: bytes) -> tuple[bytes, list[tuple[float, ...]]]:
    """(header, [(nx, ny, nz, x1, y1, z1, x2, y2, z2, x3, y3, z3), …]); asserts the size."""
    count = struct.unpack_from("<I", data, 80)[0]
    assert len(data) == 84 + 50 * count, (len(data), count)
    records = [struct.unpack_from("<12f", data, 84 + 50 * i) for i in range(count)]
    return data[:80], records


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)
