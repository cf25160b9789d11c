import io
import math
import struct

import pytest

from catalog.mesh_preview import (
    PREVIEW_MAX_TRIANGLES,
    mesh_preview_from_file,
    preview_max_triangles,
)
from tests.mesh_files import (
    CONTENT_TYPES,
    CORE_NS,
    PRODUCTION_NS,
    ROOT_RELS,
    XML_BOMB_PROLOG,
    ascii_stl,
    binary_stl,
    detailed_triangles,
    model_xml,
    obj_text,
    parse_binary_stl,
    three_mf,
    zip_of,
)


@pytest.fixture(autouse=True)
def _every_triangle(request, settings):
    # These tests check the readers' geometry triangle by triangle; the thinning rule
    # (at most one triangle in MESH_PREVIEW_MIN_STRIDE) has its own tests, marked.
    if "thinning" not in request.keywords:
        settings.MESH_PREVIEW_MIN_STRIDE = 1


def uv_sphere(rings: int = 24, segments: int = 48, radius: float = 40.0) -> list[tuple]:
    """A closed (watertight) sphere: every edge is shared by exactly two triangles."""

    def point(ring, seg):
        theta, phi = math.pi * ring / rings, 2 * math.pi * (seg % segments) / segments
        return (
            radius * math.sin(theta) * math.cos(phi),
            radius * math.sin(theta) * math.sin(phi),
            radius * math.cos(theta),
        )

    triangles = []
    for ring in range(rings):
        for seg in range(segments):
            a, b = point(ring, seg), point(ring, seg + 1)
            c, d = point(ring + 1, seg), point(ring + 1, seg + 1)
            if ring > 0:
                triangles.append((*a, *c, *b))
            if ring < rings - 1:
                triangles.append((*b, *c, *d))
    return triangles


def open_edge_share(records) -> float:
    """Share of a mesh's edges used by one triangle only (0 for a printable, closed one)."""
    from collections import Counter

    edges = Counter()
    for record in records:
        c = corners(record)
        points = [tuple(round(v, 4) for v in c[i : i + 3]) for i in (0, 3, 6)]
        for i in range(3):
            edges[frozenset((points[i], points[(i + 1) % 3]))] += 1
    return sum(1 for n in edges.values() if n == 1) / len(edges)


def preview(content: bytes, kind: str) -> tuple[bytes, list[tuple[float, ...]]]:
    return parse_binary_stl(mesh_preview_from_file(io.BytesIO(content), kind=kind))


def corners(record) -> tuple[float, ...]:
    return tuple(record[3:12])


def f32(values) -> tuple[float, ...]:
    return tuple(struct.unpack("<f", struct.pack("<f", value))[0] for value in values)


def test_default_cap_is_60_000_triangles(settings):
    # given
    if hasattr(settings, "MESH_PREVIEW_MAX_TRIANGLES"):
        del settings.MESH_PREVIEW_MAX_TRIANGLES

    # then
    assert (PREVIEW_MAX_TRIANGLES, preview_max_triangles()) == (60_000, 60_000)


def test_binary_stl_preview_is_a_valid_binary_stl_with_our_header():
    # given
    content = binary_stl(25)

    # when
    data = mesh_preview_from_file(io.BytesIO(content), kind="stl")

    # then
    header, records = parse_binary_stl(data)
    assert header == b"Home Craft 3D preview".ljust(80, b" ")
    assert len(data) == 84 + 50 * 25
    assert len(records) == 25


def test_preview_takes_every_kth_triangle_down_to_the_cap_exactly(settings):
    # given
    settings.MESH_PREVIEW_MAX_TRIANGLES = 100
    original = detailed_triangles(1000)

    # when
    _, records = preview(binary_stl(triangle_list=original), "stl")

    # then: k = 10, so triangles 0, 10, 20, … each within half a grid step of the source
    assert len(records) == 100
    step = max(_extent(original[::10])) / 256
    for index, record in enumerate(records):
        source = original[index * 10]
        assert all(
            abs(a - b) <= step / 2 + 1e-4 for a, b in zip(corners(record), source, strict=True)
        )


def test_cap_is_never_exceeded_when_total_does_not_divide(settings):
    # given: 1,001 triangles, cap 100: k = 11, keeping 0, 11, …, 990
    settings.MESH_PREVIEW_MAX_TRIANGLES = 100

    # when
    _, records = preview(binary_stl(1001), "stl")

    # then
    assert len(records) == 91


def test_cap_spans_read_chunks_without_drift(settings):
    # given: more records than one 1 MiB read holds (20,971), cap forcing k = 7
    settings.MESH_PREVIEW_MAX_TRIANGLES = 3500
    original = detailed_triangles(24_000)

    # when
    _, records = preview(binary_stl(triangle_list=original), "stl")

    # then
    assert len(records) == math.ceil(24_000 / 7)
    # record 3000 is source triangle 21,000, the first one in the second chunk
    assert corners(records[3000])[2] == pytest.approx(original[21_000][2], abs=0.2)


def _extent(triangles) -> list[float]:
    return [
        max(t[axis + 3 * c] for t in triangles for c in range(3))
        - min(t[axis + 3 * c] for t in triangles for c in range(3))
        for axis in range(3)
    ]


def test_quantization_changes_fine_coordinates_and_snaps_them_to_a_grid():
    # given
    original = detailed_triangles(200)

    # when
    _, records = preview(binary_stl(triangle_list=original), "stl")

    # then: nothing survives at full precision …
    changed = sum(
        1
        for record, source in zip(records, original, strict=True)
        if corners(record) != f32(source)
    )
    assert changed == 200
    # … and every coordinate is a whole number of grid steps from the minimum
    lows = [min(t[axis + 3 * c] for t in original for c in range(3)) for axis in range(3)]
    step = max(_extent(original)) / 256
    for record in records:
        for index, value in enumerate(corners(record)):
            steps = (value - lows[index % 3]) / step
            assert abs(steps - round(steps)) < 1e-3


def test_grid_coarseness_comes_from_the_setting(settings):
    # given: 4 steps across a model 1 unit wide
    settings.MESH_PREVIEW_GRID_STEPS = 4
    triangle = (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.3, 0.9, 0.0)

    # when
    _, records = preview(binary_stl(triangle_list=[triangle]), "stl")

    # then
    assert corners(records[0]) == (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.25, 1.0, 0.0)


def test_normals_are_recomputed_from_the_corners():
    # given: stored normal says (0, 0, 1), winding says (0, 0, -1)
    triangle = (0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0)

    # when
    _, records = preview(binary_stl(triangle_list=[triangle]), "stl")

    # then
    assert records[0][:3] == (0.0, 0.0, -1.0)


def test_ascii_stl_preview_matches_binary_stl_preview():
    # given
    original = detailed_triangles(30)

    # when
    from_ascii = mesh_preview_from_file(io.BytesIO(ascii_stl(triangle_list=original)), kind="stl")
    from_binary = mesh_preview_from_file(io.BytesIO(binary_stl(triangle_list=original)), kind="stl")

    # then: same triangles; binary input was float32 already, so allow float32 noise
    _, ascii_records = parse_binary_stl(from_ascii)
    _, binary_records = parse_binary_stl(from_binary)
    assert len(ascii_records) == 30
    for a, b in zip(ascii_records, binary_records, strict=True):
        assert corners(a) == pytest.approx(corners(b), abs=1e-4)


def test_ascii_stl_is_capped_too(settings):
    # given
    settings.MESH_PREVIEW_MAX_TRIANGLES = 10

    # when
    _, records = preview(ascii_stl(95), "stl")

    # then: k = 10
    assert len(records) == 10


def test_obj_quad_becomes_two_triangles():
    # when
    _, records = preview(obj_text(), "obj")

    # then
    assert [corners(r) for r in records] == [
        (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0),
        (0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0),
    ]


def test_obj_pentagon_is_fan_triangulated():
    # given: 4 units tall, so the 1/256 grid (1/64) holds every whole number exactly
    vertices = ((0, 0, 0), (2, 0, 0), (2, 2, 0), (1, 4, 0), (0, 2, 0))
    content = obj_text(vertices, faces=((1, 2, 3, 4, 5),))

    # when
    _, records = preview(content, "obj")

    # then
    assert [corners(r)[6:8] for r in records] == [(2.0, 2.0), (1.0, 4.0), (0.0, 2.0)]


def test_obj_negative_indices_and_slash_forms_resolve_to_the_same_vertices():
    # given
    plain = obj_text(faces=((1, 2, 3),))
    relative = obj_text(faces=(("-4/1/1", "-3//1", "-2/2"),), extra_lines=("vt 0 0", "vn 0 0 1"))

    # when
    _, plain_records = preview(plain, "obj")
    _, relative_records = preview(relative, "obj")

    # then
    assert plain_records == relative_records
    assert corners(plain_records[0]) == (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0)


def test_obj_faces_before_their_vertices_and_comments_are_handled():
    # given
    content = b"# header\nf 1 2 3\n\nv 0 0 0\nv 1 0 0\n  v 0 1 0 # indented\n"

    # when
    _, records = preview(content, "obj")

    # then
    assert corners(records[0]) == (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def test_obj_is_capped_and_keeps_every_kth_triangle(settings):
    # given: 40 triangles (20 quads) with a cap of 8, so k = 5; 32 units tall, so the
    # grid step is 1/8 and whole-number x values survive exactly
    settings.MESH_PREVIEW_MAX_TRIANGLES = 8
    vertices = [(float(x), float(y), 0.0) for y in (0, 32) for x in range(21)]
    faces = [(x + 1, x + 2, x + 23, x + 22) for x in range(20)]

    # when
    _, records = preview(obj_text(vertices, faces), "obj")

    # then: triangles 0, 5, 10, …, 35 — even ones are first halves of quads 0, 5, 10 …
    assert len(records) == 8
    assert [corners(r)[0] for r in records] == [0.0, 2.0, 5.0, 7.0, 10.0, 12.0, 15.0, 17.0]


def test_3mf_preview_has_the_model_triangles():
    # given
    original = detailed_triangles(12)

    # when
    _, records = preview(three_mf(model=model_xml(original)), "3mf")

    # then
    assert len(records) == 12
    step = max(_extent(original)) / 256
    assert corners(records[4]) == pytest.approx(original[4], abs=step / 2 + 1e-4)


def test_3mf_is_capped(settings):
    # given
    settings.MESH_PREVIEW_MAX_TRIANGLES = 10

    # when
    _, records = preview(three_mf(101), "3mf")

    # then: k = 11
    assert len(records) == 10


def _square_model(extra_resources: str = "", build: str = '<item objectid="1"/>') -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><model xmlns="{CORE_NS}" '
        f'xmlns:p="{PRODUCTION_NS}"><resources>'
        '<object id="1" type="model"><mesh><vertices>'
        '<vertex x="0" y="0" z="0"/><vertex x="10" y="0" z="0"/><vertex x="0" y="10" z="0"/>'
        '</vertices><triangles><triangle v1="0" v2="1" v3="2"/></triangles></mesh></object>'
        f"{extra_resources}</resources><build>{build}</build></model>"
    ).encode()


def test_3mf_build_items_place_and_repeat_objects():
    # given: the same triangle placed twice, the second copy moved 10 along z
    model = _square_model(
        build='<item objectid="1"/><item objectid="1" transform="1 0 0 0 1 0 0 0 1 0 0 10"/>'
    )

    # when
    _, records = preview(three_mf(model=model), "3mf")

    # then
    assert [corners(r) for r in records] == [
        (0.0, 0.0, 0.0, 10.0, 0.0, 0.0, 0.0, 10.0, 0.0),
        (0.0, 0.0, 10.0, 10.0, 0.0, 10.0, 0.0, 10.0, 10.0),
    ]


def test_3mf_components_in_other_parts_are_followed_and_transformed():
    # given: Bambu/Prusa layout — the mesh lives in another part; the root model holds
    # an assembly that uses it twice, once rotated 90° about z, then moved by the build
    mesh_part = _square_model(build="")
    root = (
        f'<?xml version="1.0" encoding="UTF-8"?><model xmlns="{CORE_NS}" '
        f'xmlns:p="{PRODUCTION_NS}"><resources><object id="5" type="model"><components>'
        '<component p:path="/3D/Objects/part.model" objectid="1"/>'
        '<component p:path="/3D/Objects/part.model" objectid="1" '
        'transform="0 1 0 -1 0 0 0 0 1 0 0 0"/>'
        "</components></object></resources>"
        '<build><item objectid="5" transform="1 0 0 0 1 0 0 0 1 100 0 0"/></build></model>'
    ).encode()
    content = zip_of(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "_rels/.rels": ROOT_RELS,
            "3D/3dmodel.model": root,
            "3D/Objects/part.model": mesh_part,
        }
    )

    # when
    _, records = preview(content, "3mf")

    # then
    assert [corners(r) for r in records] == [
        (100.0, 0.0, 0.0, 110.0, 0.0, 0.0, 100.0, 10.0, 0.0),
        (100.0, 0.0, 0.0, 100.0, 10.0, 0.0, 90.0, 0.0, 0.0),
    ]


def test_3mf_objects_not_in_the_build_are_left_out():
    # given: object 2 is defined but never placed
    second = (
        '<object id="2" type="model"><mesh><vertices><vertex x="50" y="50" z="50"/>'
        '<vertex x="51" y="50" z="50"/><vertex x="50" y="51" z="50"/></vertices>'
        '<triangles><triangle v1="0" v2="1" v3="2"/></triangles></mesh></object>'
    )

    # when
    _, records = preview(three_mf(model=_square_model(extra_resources=second)), "3mf")

    # then
    assert len(records) == 1
    assert corners(records[0])[:3] == (0.0, 0.0, 0.0)


def test_3mf_with_doctype_is_refused():
    # given
    content = three_mf(model=model_xml(triangles=1, prolog=XML_BOMB_PROLOG))

    # when
    with pytest.raises(ValueError, match="declares a DOCTYPE or entities"):
        mesh_preview_from_file(io.BytesIO(content), kind="3mf")


def test_3mf_triangle_pointing_at_a_missing_vertex_is_refused():
    # given
    model = _square_model().replace(b'v3="2"', b'v3="7"')

    # when
    with pytest.raises(ValueError, match="refers to a missing vertex"):
        mesh_preview_from_file(io.BytesIO(three_mf(model=model)), kind="3mf")


@pytest.mark.parametrize(
    ("content", "kind", "message"),
    [
        (b"\x00\x01\x02 not a mesh at all" * 10, "stl", "neither a binary STL"),
        (binary_stl(5, count=9), "stl", "neither a binary STL"),
        (b"", "stl", "neither a binary STL"),
        (b"solid x\nfacet normal 0 0 1\nouter loop\nvertex 1 2\n", "stl", "has no facets"),
        (b"solid x\nvertex a b c\nendfacet\n", "stl", "not a number"),
        (b"# only comments\nv 0 0 0\n", "obj", "has no faces"),
        (b"v 0 0 0\nv 1 0 0\nf 1 2 3\n", "obj", "defines only 2 vertices"),
        (b"v 0 0 0\nf 1 -4 2\n", "obj", "refers to a vertex that does not exist"),
        (b"v 0 0 0\nv 0 0 x\nv 1 1 1\nf 1 2 3\n", "obj", "not a number"),
        (b"not a zip", "3mf", "not a readable ZIP"),
        (zip_of({"a.txt": b"x"}), "3mf", "no 3D/….model part"),
        (three_mf(0), "3mf", "no triangles"),
        (three_mf(model=b"<model><resources>"), "3mf", "not valid XML"),
        (binary_stl(3), "ply", "Cannot preview “ply” files"),
        (obj_text(vertices=((1, 1, 1),) * 4), "obj", "has no size"),
    ],
)
def test_unreadable_input_raises_value_error(content, kind, message):
    # when
    with pytest.raises(ValueError, match=message):
        mesh_preview_from_file(io.BytesIO(content), kind=kind)


@pytest.mark.parametrize(
    ("content", "kind"),
    [(binary_stl(3), "stl"), (ascii_stl(3), "stl"), (obj_text(), "obj"), (three_mf(2), "3mf")],
)
def test_file_is_left_at_its_start(content, kind):
    # given
    file = io.BytesIO(content)
    file.read(7)

    # when
    mesh_preview_from_file(file, kind=kind)

    # then
    assert file.tell() == 0


def test_non_finite_binary_triangles_are_dropped():
    # given
    triangles = detailed_triangles(3)
    triangles[1] = (math.nan, 0, 0, 1, 0, 0, 0, 1, 0)

    # when
    _, records = preview(binary_stl(triangle_list=triangles), "stl")

    # then
    assert len(records) == 2


@pytest.mark.thinning
def test_the_preview_of_a_closed_model_is_open_everywhere_and_keeps_half_at_most():
    # given a closed model well under the triangle cap (a small print)
    sphere = uv_sphere()
    _, original = parse_binary_stl(binary_stl(triangle_list=sphere))
    assert open_edge_share(original) == 0
    # when it is previewed
    _, records = preview(binary_stl(triangle_list=sphere), "stl")
    # then at most half of its triangles are there and most edges are open: a slicer
    # sees a shell full of holes, not a printable copy
    assert len(records) <= math.ceil(len(sphere) / 2)
    assert open_edge_share(records) >= 0.5


@pytest.mark.thinning
def test_the_minimum_stride_comes_from_the_setting(settings):
    settings.MESH_PREVIEW_MIN_STRIDE = 4
    sphere = uv_sphere()
    _, records = preview(binary_stl(triangle_list=sphere), "stl")
    assert len(records) == math.ceil(len(sphere) / 4)
