import hashlib
import io
import time
import warnings
import zipfile

import pytest
from django.core.exceptions import ValidationError

from catalog.validation import ValidatedFile, validate_digital_file
from tests.images import decompression_bomb_png, image_bytes
from tests.mesh_files import (
    XML_BOMB_PROLOG,
    ascii_stl,
    binary_stl,
    model_xml,
    obj_text,
    patch_zip_entry,
    pdf_bytes,
    three_mf,
    upload,
    zip_bomb,
    zip_of,
)

NONE_OF_THEM = (
    "We accept STL, 3MF, OBJ, PDF instructions, images, or a ZIP of those. "
    "This file is none of them."
)


def refusal(name: str, content: bytes, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_digital_file(upload(name, content), **kwargs)
    return caught.value


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- Accepted kinds -----------------------------------------------------------------


def test_binary_stl_is_accepted_with_exact_size_hash_and_triangles():
    # given
    content = binary_stl(12)

    # when
    result = validate_digital_file(upload("part.stl", content))

    # then
    assert result == ValidatedFile(
        kind="stl", size=84 + 50 * 12, sha256=sha(content), previewable=True, triangle_count=12
    )


def test_binary_stl_whose_header_starts_with_solid_is_read_as_binary():
    # given: many exporters write "solid" into the 80-byte binary header
    content = binary_stl(3, header=b"solid exported by CAD")

    # when
    result = validate_digital_file(upload("part.stl", content))

    # then
    assert (result.kind, result.triangle_count, result.size) == ("stl", 3, 234)


def test_ascii_stl_is_accepted_and_its_facets_counted():
    # given
    content = ascii_stl(7)

    # when
    result = validate_digital_file(upload("part.stl", content))

    # then
    assert result == ValidatedFile(
        kind="stl", size=len(content), sha256=sha(content), previewable=True, triangle_count=7
    )


def test_ascii_stl_with_uppercase_keywords_crlf_and_two_solids_is_accepted():
    # given
    one = ascii_stl(2, name="a").decode().upper()
    content = (one + ascii_stl(1, name="b").decode()).replace("\n", "\r\n").encode()

    # when
    result = validate_digital_file(upload("part.stl", content))

    # then
    assert result.triangle_count == 3


def test_obj_quad_is_accepted_and_counts_two_triangles():
    # given
    content = obj_text()

    # when
    result = validate_digital_file(upload("model.obj", content))

    # then
    assert result == ValidatedFile(
        kind="obj", size=len(content), sha256=sha(content), previewable=True, triangle_count=2
    )


def test_obj_with_slash_forms_negative_indices_and_extras_is_accepted():
    # given
    content = obj_text(
        faces=(("1/1/1", "2/2/1", "3/3/1"), ("-4//1", "-2//1", "-1//1"), (1, 2, 3, 4, 1)),
        extra_lines=(
            "mtllib model.mtl",
            "usemtl red",
            "vt 0 0",
            "vt 1 0",
            "vt 1 1",
            "vn 0 0 1",
            "g body",
            "s off",
            "l 1 2",
        ),
    )

    # when
    result = validate_digital_file(upload("model.obj", content))

    # then
    assert (result.kind, result.triangle_count) == ("obj", 1 + 1 + 3)


def test_3mf_is_accepted_with_triangles_and_members():
    # given
    content = three_mf(9, extra_members={"Metadata/thumbnail.png": image_bytes("PNG")})

    # when
    result = validate_digital_file(upload("model.3mf", content))

    # then
    assert result == ValidatedFile(
        kind="3mf",
        size=len(content),
        sha256=sha(content),
        previewable=True,
        triangle_count=9,
        members=(
            "[Content_Types].xml",
            "_rels/.rels",
            "3D/3dmodel.model",
            "Metadata/thumbnail.png",
        ),
    )


def test_pdf_is_accepted():
    # given
    content = pdf_bytes()

    # when
    result = validate_digital_file(upload("instructions.pdf", content))

    # then
    assert result == ValidatedFile(
        kind="pdf", size=len(content), sha256=sha(content), previewable=False
    )


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_images_are_accepted(fmt):
    # given
    content = image_bytes(fmt)

    # when
    result = validate_digital_file(upload("photo.bin", content))

    # then
    assert result == ValidatedFile(
        kind="image", size=len(content), sha256=sha(content), previewable=False
    )


def test_zip_bundle_is_accepted_and_lists_its_files_without_folders_or_junk():
    # given
    content = zip_of(
        {
            "models/": b"",
            "models/body.stl": binary_stl(2),
            "models/lid.stl": ascii_stl(1),
            "models/handle.obj": obj_text(),
            "models/handle.mtl": b"newmtl red\nKd 1 0 0\n",
            "models/plate.3mf": three_mf(2),
            "instructions.pdf": pdf_bytes(),
            "photo.jpg": image_bytes("JPEG"),
            "README.md": b"# Print me\nPLA, 0.2 mm layers.\n",
            "notes.txt": b"Thanks!\n",
            "body.gcode": b"G28\nG1 X10 Y10\n",
            "__MACOSX/models/._body.stl": b"\x00\x05\x16\x07 apple double",
            "models/.DS_Store": b"\x00\x00\x00\x01Bud1",
        }
    )

    # when
    result = validate_digital_file(upload("bundle.zip", content))

    # then
    assert result == ValidatedFile(
        kind="zip",
        size=len(content),
        sha256=sha(content),
        previewable=False,
        members=(
            "models/body.stl",
            "models/lid.stl",
            "models/handle.obj",
            "models/handle.mtl",
            "models/plate.3mf",
            "instructions.pdf",
            "photo.jpg",
            "README.md",
            "notes.txt",
            "body.gcode",
        ),
    )


def test_stored_zip_is_accepted():
    # given
    content = zip_of({"a.stl": binary_stl(1)}, compression=zipfile.ZIP_STORED)

    # when
    result = validate_digital_file(upload("bundle.zip", content))

    # then
    assert (result.kind, result.members) == ("zip", ("a.stl",))


def test_plain_file_object_without_size_or_name_is_accepted():
    # given
    content = binary_stl(2)

    # when
    result = validate_digital_file(io.BytesIO(content))

    # then
    assert (result.kind, result.size, result.sha256) == ("stl", 184, sha(content))


# --- Content decides, not the name ---------------------------------------------------


def test_binary_stl_named_pdf_is_accepted_as_stl():
    # given
    content = binary_stl(4)

    # when
    result = validate_digital_file(upload("model.pdf", content))

    # then
    assert (result.kind, result.triangle_count) == ("stl", 4)


def test_pdf_named_stl_is_accepted_as_pdf():
    # given
    content = pdf_bytes()

    # when
    result = validate_digital_file(upload("model.stl", content))

    # then
    assert (result.kind, result.previewable, result.triangle_count) == ("pdf", False, None)


def test_3mf_named_zip_is_accepted_as_3mf():
    # when
    result = validate_digital_file(upload("bundle.zip", three_mf(2)))

    # then
    assert (result.kind, result.triangle_count) == ("3mf", 2)


def test_text_file_named_stl_is_refused():
    # given
    content = b"Hello! This is my model, printed at 0.2 mm.\nEnjoy.\n"

    # when
    error = refusal("model.stl", content)

    # then
    assert (error.code, error.messages) == ("unknown_type", [NONE_OF_THEM])


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(range(256)) * 4,
        b"\x7fELF\x02\x01\x01" + bytes(200),
        b"<html><script>alert(1)</script></html>",
        b"#!/bin/sh\nrm -rf /\n",
    ],
    ids=["exe", "elf", "html", "shell"],
)
def test_other_files_are_refused_whatever_their_name(content):
    # when
    error = refusal("model.stl", content)

    # then
    assert (error.code, error.messages) == ("unknown_type", [NONE_OF_THEM])


# --- Size ----------------------------------------------------------------------------


def test_empty_file_is_refused():
    # when
    error = refusal("model.stl", b"")

    # then
    assert (error.code, error.messages) == ("empty", ["The file is empty."])


def test_file_over_max_bytes_is_refused_naming_size_and_limit():
    # given
    content = binary_stl(1)  # 134 bytes

    # when
    error = refusal("model.stl", content, max_bytes=100)

    # then
    assert error.code == "too_large"
    assert error.messages == ["The file is 134\xa0bytes; the limit is 100\xa0bytes."]


def test_max_bytes_defaults_to_the_setting(settings):
    # given
    settings.DIGITAL_FILE_MAX_BYTES = 2048

    # when
    error = refusal("model.stl", binary_stl(50))  # 2,584 bytes

    # then
    assert error.messages == ["The file is 2.5\xa0KB; the limit is 2.0\xa0KB."]


def test_stream_longer_than_it_claims_is_refused_while_reading():
    # given: a file object that cannot report its size up front
    class Unsized(io.BytesIO):
        def seek(self, offset, whence=0):
            if whence == io.SEEK_END:
                raise OSError("not seekable to the end")
            return super().seek(offset, whence)

    # when
    with pytest.raises(ValidationError) as caught:
        validate_digital_file(Unsized(bytes(3 * 1024 * 1024)), max_bytes=1024 * 1024)

    # then
    assert caught.value.code == "too_large"


# --- STL problems --------------------------------------------------------------------


def test_binary_stl_shorter_than_its_header_promises_is_refused_as_truncated():
    # given: header promises 10 triangles, file holds 6
    content = binary_stl(6, count=10)

    # when
    error = refusal("model.stl", content)

    # then
    assert error.code == "stl_truncated"
    assert error.messages == [
        "This looks like a binary STL but it is truncated: the header promises 10 "
        "triangles (584 bytes) and the file has 384 bytes. Export it again and upload the "
        "complete file."
    ]


def test_binary_stl_cut_mid_record_is_refused_as_truncated():
    # given
    content = binary_stl(3)[:-17]

    # when
    error = refusal("model.stl", content)

    # then
    assert error.code == "stl_truncated"
    assert "promises 3 triangles (234 bytes) and the file has 217 bytes" in error.messages[0]


def test_binary_stl_longer_than_its_header_promises_is_refused():
    # given: header promises 4 triangles, file holds 6
    content = binary_stl(6, count=4)

    # when
    error = refusal("model.stl", content)

    # then
    assert error.code == "stl_size_mismatch"
    assert error.messages == [
        "This looks like a binary STL but it has extra data: the header promises 4 "
        "triangles (284 bytes) and the file has 384 bytes. Export it again from your "
        "modelling program."
    ]


def test_binary_stl_with_no_triangles_is_refused():
    # when
    error = refusal("model.stl", binary_stl(0))

    # then
    assert (error.code, error.messages) == ("stl_empty", ["This STL file contains no triangles."])


def test_ascii_stl_vertex_with_two_numbers_is_refused_naming_the_line():
    # given
    lines = ascii_stl(2).decode().splitlines()
    lines[11] = "      vertex 1.0 2.0"  # second facet's second vertex
    content = "\n".join(lines).encode()

    # when
    error = refusal("model.stl", content)

    # then
    assert error.code == "ascii_stl_malformed"
    assert error.messages == ["ASCII STL vertex line 12 has 2 numbers; it needs 3."]


def test_ascii_stl_vertex_with_a_word_is_refused():
    # given
    content = ascii_stl(1).replace(b"vertex 10.0", b"vertex ten", 1)

    # when
    error = refusal("model.stl", content)

    # then
    assert error.messages == ["ASCII STL vertex line 4 has “ten”, which is not a number."]


def test_ascii_stl_without_endsolid_is_refused_as_cut_off():
    # given
    content = ascii_stl(3).rsplit(b"endsolid", 1)[0]

    # when
    error = refusal("model.stl", content)

    # then
    assert error.messages == [
        "The ASCII STL ends before “endsolid”, so the file looks cut off. Export it again "
        "and upload the complete file."
    ]


def test_ascii_stl_facet_with_four_vertices_is_refused():
    # given
    content = ascii_stl(1).replace(b"    endloop", b"      vertex 0 0 0\n    endloop")

    # when
    error = refusal("model.stl", content)

    # then
    assert error.messages == [
        "ASCII STL facet ending on line 8 has 4 vertices; every facet needs exactly 3."
    ]


def test_ascii_stl_out_of_order_keyword_is_refused():
    # given
    content = b"solid x\n  outer loop\nendsolid x\n"

    # when
    error = refusal("model.stl", content)

    # then
    assert error.messages == [
        "ASCII STL line 2: expected “facet normal” or “endsolid”, found “outer loop”."
    ]


def test_ascii_stl_without_facets_is_refused():
    # when
    error = refusal("model.stl", b"solid empty\nendsolid empty\n")

    # then
    assert (error.code, error.messages) == ("stl_empty", ["This STL file contains no triangles."])


def test_ascii_stl_with_binary_data_after_the_start_is_refused():
    # given: 6,000 facets (over one 1 MiB read), then a line with NUL bytes
    content = ascii_stl(6000) + b"\x00\x01junk\n"

    # when
    error = refusal("model.stl", content)

    # then: 1 + 7 × 6,000 + 1 lines come before it
    assert error.code == "ascii_stl_malformed"
    assert error.messages == [
        "ASCII STL line 42003 contains binary data, so this is not a text model file."
    ]


# --- OBJ problems --------------------------------------------------------------------


def test_obj_face_pointing_past_the_last_vertex_is_refused():
    # given
    content = obj_text(faces=((1, 2, 9),))

    # when
    error = refusal("model.obj", content)

    # then
    assert error.messages == ["OBJ line 7 refers to vertex 9, but only 4 vertices are defined."]


def test_obj_negative_index_before_enough_vertices_is_refused():
    # given
    content = obj_text(faces=((-1, -2, -5),))

    # when
    error = refusal("model.obj", content)

    # then
    assert error.messages == ["OBJ line 7 refers to vertex -5, but only 4 vertices are defined."]


def test_obj_without_faces_is_refused():
    # when
    error = refusal("model.obj", obj_text(faces=()))

    # then
    assert error.messages == [
        "An OBJ model needs at least 3 vertices and 1 face; this one has 4 vertices and 0 faces."
    ]


def test_obj_with_an_unknown_statement_is_refused():
    # given
    content = obj_text(extra_lines=("<script>alert(1)</script>",))

    # when
    error = refusal("model.obj", content)

    # then
    assert error.messages == [
        "OBJ line 7 starts with “<script>alert(1)</script>”, which is not an OBJ statement."
    ]


def test_obj_vertex_with_two_numbers_is_refused():
    # given
    content = obj_text(vertices=((0, 0, 0), (1, 0, 0), (1, 1, 0)), faces=((1, 2, 3),))
    content = content.replace(b"v 1 1 0", b"v 1 1")

    # when
    error = refusal("model.obj", content)

    # then
    assert error.messages == ["OBJ vertex line 5 has 2 numbers; it needs 3 or 4 or 6 or 7."]


def test_obj_face_with_zero_index_is_refused():
    # when
    error = refusal("model.obj", obj_text(faces=((0, 1, 2),)))

    # then
    assert error.messages == [
        "OBJ line 7: “0” is not a vertex reference (expected forms like 3, 3/1, 3//2 or "
        "3/1/2; numbering starts at 1)."
    ]


def test_obj_with_binary_junk_past_the_sniffed_start_is_refused():
    # given: 4,000 vertex lines (over 64 KB), then junk
    vertices = [(n * 0.001, n * 0.002, n * 0.003) for n in range(4000)]
    content = obj_text(vertices, faces=((1, 2, 3),)) + b"f 1 2 3\x00\x00\xff\n"

    # when
    error = refusal("model.obj", content)

    # then
    assert error.messages == [
        "OBJ line 4004 contains binary data, so this is not a text model file."
    ]


def test_obj_with_binary_junk_at_the_start_is_refused_as_unknown():
    # given
    content = obj_text() + b"f 1 2 3\x00\x00\xff\n"

    # when
    error = refusal("model.obj", content)

    # then
    assert (error.code, error.messages) == ("unknown_type", [NONE_OF_THEM])


# --- Images --------------------------------------------------------------------------


def test_decompression_bomb_png_is_refused():
    # when
    error = refusal("photo.png", decompression_bomb_png())

    # then
    assert error.code == "too_many_pixels"


def test_broken_image_is_refused():
    # given: a PNG signature followed by junk
    content = b"\x89PNG\r\n\x1a\n" + bytes(100)

    # when
    error = refusal("photo.png", content)

    # then
    assert error.code == "not_an_image"


def test_pdf_without_end_marker_is_refused():
    # given
    content = pdf_bytes().replace(b"%%EOF", b"")

    # when
    error = refusal("instructions.pdf", content)

    # then
    assert error.code == "pdf_incomplete"


# --- ZIP safety ----------------------------------------------------------------------


def test_zip_bomb_is_refused_quickly():
    # given: 20 MB of zeros packed into about 20 KB
    content = zip_bomb()
    started = time.monotonic()

    # when
    error = refusal("bundle.zip", content)

    # then
    assert error.code == "zip_bomb"
    assert error.messages[0].startswith("The ZIP entry “model.stl” unpacks from ")
    assert error.messages[0].endswith(
        " to 20.0\xa0MB, a compression ratio we refuse because it is typical of a “zip "
        "bomb”. Upload the files uncompressed or in a normal ZIP."
    )
    assert time.monotonic() - started < 1


def test_zip_ratio_limit_comes_from_the_setting(settings):
    # given: 2 MB of spaces is about 1,000:1
    settings.ARCHIVE_MAX_RATIO = 5000
    content = zip_of({"spaces.txt": b" " * 2 * 1024 * 1024})

    # when
    result = validate_digital_file(upload("bundle.zip", content))

    # then
    assert result.members == ("spaces.txt",)


def test_small_highly_compressible_member_is_not_a_bomb():
    # given: 500 KB of spaces compresses over 1,000:1 but cannot hurt anyone
    content = zip_of({"notes.txt": b" " * 500_000})

    # when
    result = validate_digital_file(upload("bundle.zip", content))

    # then
    assert result.members == ("notes.txt",)


def test_zip_whose_header_understates_a_member_size_is_refused():
    # given: 20 MB of zeros declared as 1,000 bytes, so ratio checks pass
    content = patch_zip_entry(zip_bomb(), "model.stl", file_size=1000)

    # when
    error = refusal("bundle.zip", content)

    # then
    assert error.code == "zip_damaged"
    assert error.messages == [
        "The ZIP entry “model.stl” is damaged (its data does not match its header). "
        "Create the ZIP again and upload the new copy."
    ]


def test_zip_over_the_unpacked_size_limit_is_refused(settings):
    # given
    settings.ARCHIVE_MAX_UNCOMPRESSED_BYTES = 1000
    content = zip_of({"a.stl": binary_stl(12), "b.stl": binary_stl(12)})  # 684 bytes each

    # when
    error = refusal("bundle.zip", content)

    # then
    assert error.code == "zip_too_large"
    assert error.messages == [
        "Unpacked, the ZIP would take 1.3\xa0KB; at most 1000\xa0bytes is accepted."
    ]


@pytest.mark.parametrize(
    ("member", "shown"),
    [
        ("../evil.stl", "../evil.stl"),
        ("models/../../evil.stl", "models/../../evil.stl"),
        ("/etc/evil.stl", "/etc/evil.stl"),
        ("C:/Windows/evil.stl", "C:/Windows/evil.stl"),
        ("models\\..\\evil.stl", "models\\..\\evil.stl"),
    ],
)
def test_zip_member_with_unsafe_path_is_refused_naming_it(member, shown):
    # given
    content = zip_of({"ok.stl": binary_stl(1), member: binary_stl(1)})

    # when
    error = refusal("bundle.zip", content)

    # then
    assert error.code == "zip_unsafe_path"
    assert error.messages == [
        f"The ZIP entry “{shown}” has an unsafe name (an absolute path, a drive letter, "
        "“..” or a backslash) that could write outside the folder it is unpacked into. "
        "Re-create the ZIP from a plain folder."
    ]


def test_unsafe_path_is_refused_even_for_junk_names():
    # when
    error = refusal("bundle.zip", zip_of({"__MACOSX/../../.DS_Store": b"x"}))

    # then
    assert error.code == "zip_unsafe_path"


def test_zip_symlink_member_is_refused():
    # given
    content = zip_of(
        {"model.stl": binary_stl(1), "passwd.txt": b"/etc/passwd"},
        symlink_names=("passwd.txt",),
    )

    # when
    error = refusal("bundle.zip", content)

    # then
    assert error.code == "zip_symlink"
    assert error.messages == [
        "The ZIP entry “passwd.txt” is a symbolic link; links are not accepted. Put the "
        "real file in the ZIP instead."
    ]


def test_zip_encrypted_member_is_refused():
    # given
    content = zip_of(
        {"model.stl": binary_stl(1), "secret.stl": binary_stl(1)},
        encrypted_names=("secret.stl",),
    )

    # when
    error = refusal("bundle.zip", content)

    # then
    assert error.code == "zip_encrypted"
    assert error.messages == [
        "The ZIP entry “secret.stl” is password-protected; buyers could not open it. "
        "Upload the ZIP without a password."
    ]


@pytest.mark.parametrize(
    "member", ["inner.zip", "inner.rar", "inner.7z", "inner.tar", "inner.tar.gz", "a.tgz"]
)
def test_zip_nested_archive_by_name_is_refused(member):
    # given
    content = zip_of({"model.stl": binary_stl(1), member: b"whatever"})

    # when
    error = refusal("bundle.zip", content)

    # then
    assert error.code == "zip_nested"
    assert error.messages == [
        f"The ZIP entry “{member}” is itself an archive; archives inside archives are not "
        "accepted. Unpack it and add its files directly."
    ]


@pytest.mark.parametrize(
    "signature",
    [b"PK\x03\x04", b"\x1f\x8b\x08\x00", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07\x00"],
    ids=["zip", "gzip", "7z", "rar"],
)
def test_zip_nested_archive_disguised_by_name_is_refused(signature):
    # given
    content = zip_of({"notes.txt": signature + bytes(64)})

    # when
    error = refusal("bundle.zip", content)

    # then
    assert error.code == "zip_nested"
    assert "“notes.txt”" in error.messages[0]


def test_real_zip_renamed_stl_inside_a_zip_is_refused_as_nested():
    # given
    inner = zip_of({"a.stl": binary_stl(1)})

    # when
    error = refusal("bundle.zip", zip_of({"model.stl": inner}))

    # then
    assert error.code == "zip_nested"


def test_archive_inside_a_3mf_inside_a_zip_is_refused():
    # given
    inner = three_mf(1, extra_members={"Metadata/extra.zip": zip_of({"a.txt": b"a"})})

    # when
    error = refusal("bundle.zip", zip_of({"plate.3mf": inner}))

    # then
    assert error.code == "zip_nested"
    assert error.messages[0].startswith(
        "The ZIP entry “Metadata/extra.zip” inside “plate.3mf” is itself an archive"
    )


def test_zip_member_named_3mf_that_is_not_a_3mf_is_refused():
    # given
    inner = zip_of({"a.stl": binary_stl(1)})

    # when
    error = refusal("bundle.zip", zip_of({"plate.3mf": inner}))

    # then
    assert error.code == "3mf_invalid"
    assert error.messages == [
        "“plate.3mf” is not a 3MF model: it lacks [Content_Types].xml or a 3D/….model "
        "part. Export it again from your slicer or CAD program."
    ]


@pytest.mark.parametrize("member", ["setup.exe", "install.sh", "viewer.js", "index.html"])
def test_zip_member_of_a_type_we_do_not_accept_is_refused(member):
    # given
    content = zip_of({"model.stl": binary_stl(1), member: b"echo hi\n"})

    # when
    error = refusal("bundle.zip", content)

    # then
    assert error.code == "zip_member_type"
    assert error.messages == [
        f"The ZIP entry “{member}” is not a file type we accept. A ZIP may hold STL, 3MF, "
        "OBJ (with MTL), PDF, PNG, JPEG, WebP, GIF, TXT, MD and G-code files."
    ]


@pytest.mark.parametrize(
    ("member", "content", "family"),
    [
        ("guide.pdf", b"just text\n", "a PDF"),
        ("photo.png", b"just text\n", "a PNG, JPEG, WebP or GIF image"),
        ("model.stl", b"just text\n", "an STL model"),
        ("notes.txt", b"MZ\x90\x00\x03\x00\x00\x00", "plain text"),
    ],
)
def test_zip_member_whose_content_does_not_match_its_name_is_refused(member, content, family):
    # when
    error = refusal("bundle.zip", zip_of({member: content}))

    # then
    assert error.code == "zip_member_mismatch"
    assert error.messages == [
        f"The ZIP entry “{member}” is named like {family} but its content is not. Check "
        "the file and add the right one."
    ]


def test_zip_image_member_over_the_pixel_ceiling_is_refused():
    # when
    error = refusal("bundle.zip", zip_of({"photo.png": decompression_bomb_png()}))

    # then
    assert error.code == "zip_image_too_large"
    assert error.messages == [
        "The image “photo.png” in the ZIP is too large to open safely (at most 40 million "
        "pixels are accepted)."
    ]


def test_zip_with_too_many_members_is_refused(settings):
    # given
    settings.ARCHIVE_MAX_MEMBERS = 3
    content = zip_of({f"part{n}.stl": binary_stl(1) for n in range(4)})

    # when
    error = refusal("bundle.zip", content)

    # then
    assert error.code == "zip_too_many_members"
    assert error.messages == [
        "The ZIP holds 4 entries; at most 3 are accepted. Put fewer files in it, or upload "
        "them separately."
    ]


def test_zip_with_exactly_the_member_limit_is_accepted(settings):
    # given
    settings.ARCHIVE_MAX_MEMBERS = 3
    content = zip_of({f"part{n}.stl": binary_stl(1) for n in range(3)})

    # when
    result = validate_digital_file(upload("bundle.zip", content))

    # then
    assert result.members == ("part0.stl", "part1.stl", "part2.stl")


def test_zip_with_bzip2_member_is_refused():
    # given
    content = zip_of({"model.stl": binary_stl(1)}, compression=zipfile.ZIP_BZIP2)

    # when
    error = refusal("bundle.zip", content)

    # then
    assert error.code == "zip_compression"
    assert error.messages == [
        "The ZIP entry “model.stl” uses a compression method we do not accept. Re-create "
        "the ZIP with standard (Deflate) compression."
    ]


def test_zip_with_duplicate_names_is_refused():
    # given
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns: "Duplicate name"
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("model.stl", binary_stl(1))
            archive.writestr("model.stl", binary_stl(2))

    # when
    error = refusal("bundle.zip", buffer.getvalue())

    # then
    assert error.code == "zip_duplicate"


def test_zip_of_only_junk_and_folders_is_refused_as_empty():
    # given
    content = zip_of({"models/": b"", "__MACOSX/._x": b"x", ".DS_Store": b"x"})

    # when
    error = refusal("bundle.zip", content)

    # then
    assert error.code == "zip_empty"
    assert error.messages == [
        "The ZIP holds no files. Add your models, instructions or pictures to it."
    ]


def test_truncated_zip_is_refused_as_damaged():
    # given
    content = zip_of({"model.stl": binary_stl(20)})[:-30]

    # when
    error = refusal("bundle.zip", content)

    # then
    assert error.code == "zip_damaged"
    assert error.messages == [
        "The ZIP archive is damaged or incomplete. Create it again and upload the new copy."
    ]


# --- 3MF problems --------------------------------------------------------------------


@pytest.mark.parametrize(
    "prolog",
    [XML_BOMB_PROLOG, '<!DOCTYPE model SYSTEM "http://example.com/evil.dtd">'],
    ids=["entity-bomb", "external-dtd"],
)
def test_3mf_with_a_doctype_or_entities_is_refused(prolog):
    # given
    content = three_mf(model=model_xml(triangles=1, prolog=prolog))

    # when
    error = refusal("model.3mf", content)

    # then
    assert error.code == "3mf_unsafe_xml"
    assert error.messages == [
        "The 3MF model “3D/3dmodel.model” declares a DOCTYPE or entities, which 3MF files "
        "never need and which can hide an “XML bomb”. Export the model again."
    ]


def test_3mf_with_malformed_xml_is_refused():
    # given
    content = three_mf(model=model_xml(triangles=2)[:-20])

    # when
    error = refusal("model.3mf", content)

    # then
    assert error.code == "3mf_invalid"
    assert error.messages[0].startswith("The 3MF model “3D/3dmodel.model” is not valid XML (")


def test_3mf_without_triangles_is_refused():
    # when
    error = refusal("model.3mf", three_mf(0))

    # then
    assert (error.code, error.messages) == (
        "3mf_empty",
        ["The 3MF file contains no triangles, so there is no model to print."],
    )


def test_3mf_with_path_traversal_member_is_refused():
    # when
    error = refusal("model.3mf", three_mf(1, extra_members={"../evil.model": b"x"}))

    # then
    assert error.code == "zip_unsafe_path"


@pytest.mark.parametrize(
    ("member", "content"),
    [
        ("Auxiliaries/Others/setup.exe", b"MZ\x90\x00"),
        ("Auxiliaries/Others/run.sh", b"echo hi\n"),
        ("Metadata/readme.config", b"#!/bin/sh\nrm -rf ~\n"),
        ("Metadata/tool.bin", b"\x7fELF\x02\x01\x01"),
    ],
)
def test_3mf_carrying_a_program_or_script_is_refused(member, content):
    # when
    error = refusal("model.3mf", three_mf(1, extra_members={member: content}))

    # then
    assert error.code == "zip_member_type"
    assert error.messages == [
        f"The 3MF entry “{member}” is a program or script; a 3MF may hold models, slicer "
        "settings, pictures and documents, but not those."
    ]


@pytest.mark.parametrize(
    ("member", "content"),
    [("__MACOSX/payload.exe", b"x"), ("models/.DS_Store", b"MZ\x90\x00\x03")],
)
def test_programs_hidden_as_junk_entries_are_refused(member, content):
    # when
    error = refusal("bundle.zip", zip_of({"model.stl": binary_stl(1), member: content}))

    # then
    assert error.code == "zip_member_type"
    assert error.messages == [
        f"The ZIP entry “{member}” is a program or script; a ZIP may hold models, slicer "
        "settings, pictures and documents, but not those."
    ]


def test_3mf_may_hold_slicer_files_a_plain_zip_may_not():
    # given
    content = three_mf(1, extra_members={"Metadata/Slic3r_PE.config": b"; layer_height = 0.2\n"})

    # when
    result = validate_digital_file(upload("model.3mf", content))

    # then
    assert result.members[-1] == "Metadata/Slic3r_PE.config"


# --- File position -------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [binary_stl(3), obj_text(), three_mf(1), pdf_bytes(), image_bytes("PNG")],
    ids=["stl", "obj", "3mf", "pdf", "png"],
)
def test_file_is_left_at_its_start_after_acceptance(content):
    # given
    file = upload("x.bin", content)
    file.read(5)

    # when
    validate_digital_file(file)

    # then
    assert file.tell() == 0


@pytest.mark.parametrize(
    "content",
    [binary_stl(3, count=5), b"plain text", zip_bomb(2), b""],
    ids=["truncated", "text", "bomb", "empty"],
)
def test_file_is_left_at_its_start_after_refusal(content):
    # given
    file = upload("x.bin", content)

    # when
    with pytest.raises(ValidationError):
        validate_digital_file(file)

    # then
    assert file.tell() == 0
