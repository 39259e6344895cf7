"""Hostile and broken requests, each with the error the contract promises.

Shared by the hardening tests and the soak (``bench/soak.py``), which mixes
them into its load. Image files are built here, byte by byte where a library
would refuse to write them (wrong CRCs, lying headers, polyglots).
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zipfile
import zlib
from dataclasses import dataclass

from PIL import Image

from functions.core.api_contract import MAX_JSON_DEPTH
from tests.imagegen import (
    bmp_claiming,
    encode,
    gif_claiming,
    mnist_digit,
    mnist_png,
    png_claiming,
)

CLIENT_ID = "hardening-corpus"
# Past the server's 256 KB request limit, and past the 180 KB decoded-image limit.
OVERSIZED_BODY_BYTES = 300 * 1024
OVERSIZED_IMAGE_BYTES = 200 * 1024
# Deep enough to exhaust any recursive parser (Python's default limit is 1000).
NESTING_DEPTH = 100_000
# Where the local engine's recording and moto's interpreter used to recurse out
# (a 500, after the item was stored): 491 to 973 levels inside a prediction request.
RECURSING_DEPTHS = (491, 973)
# A side no sane upload has: 65500 x 65500 is 4.3 gigapixels.
BOMB_SIDE = 65_500


@dataclass(frozen=True)
class BadRequestCase:
    name: str
    method: str
    path: str
    content: bytes
    status: int
    code: str
    content_type: str = "application/json"


def image_request(data: bytes, mime: str = "image/png", client_id: str = CLIENT_ID) -> bytes:
    """A prediction request uploading ``data`` as a data: URL."""
    return json.dumps(
        {"image": f"data:{mime};base64," + base64.b64encode(data).decode(), "clientId": client_id}
    ).encode()


def _digit_png() -> bytes:
    return mnist_png(mnist_digit(0), dark_ink=True)


def _digit_jpeg() -> bytes:
    return encode(Image.fromarray(255 - mnist_digit(0), "L").resize((112, 112)), "JPEG", quality=90)


def _blank(size: tuple[int, int], fmt: str, mode: str = "L", colour: int | tuple[int, ...] = 255) -> bytes:
    return encode(Image.new(mode, size, colour), fmt)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("digit.png", _digit_png())
    return buffer.getvalue()


def _png_with_bad_crc() -> bytes:
    png = bytearray(_digit_png())
    png[29] ^= 0xFF  # the IHDR chunk's CRC (8 signature + 8 + 13 bytes in)
    return bytes(png)


def _png_with_corrupt_data() -> bytes:
    png = bytearray(_digit_png())
    start = png.index(b"IDAT") + 4
    png[start : start + 40] = bytes(40)  # a zlib stream of zeros is not a zlib stream
    return bytes(png)


def _jpeg_with_corrupt_data() -> bytes:
    jpeg = bytearray(_digit_jpeg())
    start = jpeg.index(b"\xff\xda") + 20  # into the entropy-coded scan
    jpeg[start:] = b"\xff" * (len(jpeg) - start)
    return bytes(jpeg)


def _jpeg_claiming(side: int) -> bytes:
    """A real JPEG whose frame header (SOF0) announces side x side pixels."""
    jpeg = bytearray(_digit_jpeg())
    frame = jpeg.index(b"\xff\xc0")
    jpeg[frame + 5 : frame + 9] = struct.pack(">HH", side, side)
    return bytes(jpeg)


def _png_claiming_with_bad_crc() -> bytes:
    png = bytearray(png_claiming(BOMB_SIDE, BOMB_SIDE))
    png[29] ^= 0xFF
    return bytes(png)


def _compressed_png_bomb() -> bytes:
    """Honest header, 10000 x 10000 pixels that deflate to a few KB (100 MB decoded)."""
    side = 10_000
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def _gif_html_polyglot() -> bytes:
    return _blank((1, 1), "GIF") + b"<html><script>alert(document.domain)</script></html>"


def _html_gif_polyglot() -> bytes:
    return b"GIF89a/*<html><script>alert(1)</script></html>*/=1;"


def _nested(depth: int, opening: str, closing: str) -> bytes:
    return (opening * depth + closing * depth).encode()


def _digit_request_with(field: bytes) -> bytes:
    """A prediction request for a clear digit, with ``field`` (raw JSON text)
    as one more member: the digit alone would be a 200 and an item."""
    return image_request(_digit_png())[:-1] + b', "extra": ' + field + b"}"


def _cursor(position: bytes) -> str:
    """A cursor as the history makes them (base64url, unpadded) around any text."""
    return base64.urlsafe_b64encode(position).rstrip(b"=").decode("ascii")


# Cursors that decode to JSON no position is: text that is no Unicode, a
# constant JSON does not have, JSON that is not UTF-8.
LONE_SURROGATE_CURSOR = _cursor(b'["\\ud800","x"]')
NAN_CURSOR = _cursor(b'[NaN,"x"]')
UTF16_CURSOR = _cursor(json.dumps(["a", "b"]).encode("utf-16"))


@dataclass(frozen=True)
class BadUpload:
    name: str
    data: bytes
    mime: str
    status: int
    code: str


def bad_uploads() -> list[BadUpload]:
    """Files that are not a readable digit image, with the answer each must get."""
    digit_png, digit_jpeg = _digit_png(), _digit_jpeg()
    uploads: list[tuple[str, bytes, str, int, str]] = [
        ("empty file", b"", "image/png", 400, "BadRequest"),
        ("plain text", b"just some text, not an image\n", "text/plain", 415, "UnsupportedImageType"),
        (
            "html",
            b"<!doctype html><html><body><script>alert(1)</script></body></html>",
            "text/html",
            415,
            "UnsupportedImageType",
        ),
        (
            "svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><text y="20">7</text></svg>',
            "image/svg+xml",
            415,
            "UnsupportedImageType",
        ),
        (
            "pdf",
            b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
            "application/pdf",
            415,
            "UnsupportedImageType",
        ),
        ("zip", _zip(), "application/zip", 415, "UnsupportedImageType"),
        ("truncated png", digit_png[: len(digit_png) // 2], "image/png", 400, "InvalidImage"),
        ("png signature only", digit_png[:8], "image/png", 400, "InvalidImage"),
        ("truncated jpeg", digit_jpeg[: len(digit_jpeg) // 2], "image/jpeg", 400, "InvalidImage"),
        ("jpeg start marker only", digit_jpeg[:4], "image/jpeg", 400, "InvalidImage"),
        ("png with a wrong CRC", _png_with_bad_crc(), "image/png", 400, "InvalidImage"),
        ("png with corrupt pixel data", _png_with_corrupt_data(), "image/png", 400, "InvalidImage"),
        ("jpeg with a corrupt scan", _jpeg_with_corrupt_data(), "image/jpeg", 400, "InvalidImage"),
        ("png bomb header", png_claiming(BOMB_SIDE, BOMB_SIDE), "image/png", 413, "ImageTooLarge"),
        ("png bomb header with a wrong CRC", _png_claiming_with_bad_crc(), "image/png", 400, "InvalidImage"),
        ("png compressed bomb", _compressed_png_bomb(), "image/png", 413, "ImageTooLarge"),
        ("gif bomb header", gif_claiming(65_535, 65_535), "image/gif", 413, "ImageTooLarge"),
        ("bmp bomb header", bmp_claiming(BOMB_SIDE, BOMB_SIDE), "image/bmp", 413, "ImageTooLarge"),
        ("jpeg bomb header", _jpeg_claiming(BOMB_SIDE), "image/jpeg", 413, "ImageTooLarge"),
        ("1x1 png", _blank((1, 1), "PNG", colour=0), "image/png", 422, "NoDigitFound"),
        ("blank white png", _blank((280, 280), "PNG"), "image/png", 422, "NoDigitFound"),
        ("blank transparent png", _blank((280, 280), "PNG", "RGBA", (0, 0, 0, 0)), "image/png", 422, "NoDigitFound"),
        ("blank jpeg", _blank((64, 64), "JPEG"), "image/jpeg", 422, "NoDigitFound"),
        ("gif with trailing html", _gif_html_polyglot(), "image/gif", 422, "NoDigitFound"),
        ("html that starts like a gif", _html_gif_polyglot(), "image/gif", 400, "InvalidImage"),
        ("blank png with a trailing zip", _blank((28, 28), "PNG") + _zip(), "image/png", 422, "NoDigitFound"),
        (
            "image over the upload limit",
            b"\x89PNG\r\n\x1a\n" + bytes(OVERSIZED_IMAGE_BYTES),
            "image/png",
            413,
            "ImageTooLarge",
        ),
    ]
    return [BadUpload(*upload) for upload in uploads]


def image_cases() -> list[BadRequestCase]:
    return [
        BadRequestCase(
            upload.name, "POST", "/api/predictions", image_request(upload.data, upload.mime), upload.status, upload.code
        )
        for upload in bad_uploads()
    ]


def body_cases() -> list[BadRequestCase]:
    """Prediction requests whose JSON is wrong before any image is looked at."""
    png64 = base64.b64encode(_digit_png()).decode()

    def body(value: object) -> bytes:
        return json.dumps(value).encode()

    bodies: list[tuple[str, bytes, int, str]] = [
        ("empty body", b"", 400, "BadRequest"),
        ("not json", b"image=abc&clientId=x", 400, "BadRequest"),
        ("truncated json", b'{"image": "abc', 400, "BadRequest"),
        ("binary body", bytes(range(256)), 400, "BadRequest"),
        ("invalid utf-8 in json", b'{"image": "\xff\xfe", "clientId": "x"}', 400, "BadRequest"),
        ("json null", b"null", 400, "BadRequest"),
        ("json number", b"42", 400, "BadRequest"),
        ("json string", b'"image"', 400, "BadRequest"),
        ("json array", body([png64, CLIENT_ID]), 400, "BadRequest"),
        ("NaN literal", b'{"image": NaN, "clientId": "x"}', 400, "BadRequest"),
        ("image missing", body({"clientId": CLIENT_ID}), 400, "BadRequest"),
        ("clientId missing", body({"image": png64}), 400, "BadRequest"),
        ("image is a number", body({"image": 7, "clientId": CLIENT_ID}), 400, "BadRequest"),
        ("image is null", body({"image": None, "clientId": CLIENT_ID}), 400, "BadRequest"),
        ("image is a list", body({"image": [png64], "clientId": CLIENT_ID}), 400, "BadRequest"),
        ("image is an object", body({"image": {"data": png64}, "clientId": CLIENT_ID}), 400, "BadRequest"),
        ("clientId is a number", body({"image": png64, "clientId": 5}), 400, "BadRequest"),
        ("clientId is empty", body({"image": png64, "clientId": ""}), 400, "BadRequest"),
        ("clientId too long", body({"image": png64, "clientId": "a" * 65}), 400, "BadRequest"),
        ("clientId with a path", body({"image": png64, "clientId": "../../etc/passwd"}), 400, "BadRequest"),
        ("clientId with a newline", body({"image": png64, "clientId": "a\r\nSet-Cookie: x=1"}), 400, "BadRequest"),
        ("invalid base64", body({"image": "!!!not*base64$$$", "clientId": CLIENT_ID}), 400, "BadRequest"),
        ("base64 of wrong length", body({"image": png64[:-3], "clientId": CLIENT_ID}), 400, "BadRequest"),
        (
            "data url that is not base64",
            body({"image": "data:image/png,%89PNG", "clientId": CLIENT_ID}),
            400,
            "BadRequest",
        ),
        ("empty image string", body({"image": "", "clientId": CLIENT_ID}), 400, "BadRequest"),
        ("oversized body", body({"image": "A" * OVERSIZED_BODY_BYTES, "clientId": CLIENT_ID}), 413, "ImageTooLarge"),
        ("deeply nested arrays", _nested(NESTING_DEPTH, "[", "]"), 400, "BadRequest"),
        ("deeply nested objects", _nested(NESTING_DEPTH // 10, '{"a":', "}")[:-1] + b"1" + b"}", 400, "BadRequest"),
        (
            "deeply nested image field",
            b'{"clientId":"x","image":' + _nested(NESTING_DEPTH, "[", "]") + b"}",
            400,
            "BadRequest",
        ),
        # JSON (RFC 8259) has no NaN or Infinity; Python's parser takes them.
        ("NaN beside a real digit", _digit_request_with(b"NaN"), 400, "BadRequest"),
        ("Infinity beside a real digit", _digit_request_with(b"[Infinity, -Infinity]"), 400, "BadRequest"),
        # A lone surrogate escape is JSON text that is no Unicode: nothing downstream can encode it.
        (
            "lone surrogate as the image",
            json.dumps({"image": "\ud800", "clientId": CLIENT_ID}).encode(),
            400,
            "BadRequest",
        ),
        ("lone surrogate beside a real digit", _digit_request_with(b'"\\udc00"'), 400, "BadRequest"),
        ("lone surrogate as a key beside a real digit", _digit_request_with(b'{"\\ud800": 1}'), 400, "BadRequest"),
        (
            "nesting just past the edge's bound beside a real digit",
            _digit_request_with(_nested(MAX_JSON_DEPTH, "[", "]")),
            400,
            "BadRequest",
        ),
        *(
            (
                f"{depth} levels of nesting beside a real digit",
                _digit_request_with(_nested(depth, "[", "]")),
                400,
                "BadRequest",
            )
            for depth in RECURSING_DEPTHS
        ),
    ]
    return [
        BadRequestCase(name, "POST", "/api/predictions", content, status, code)
        for name, content, status, code in bodies
    ]


def route_cases() -> list[BadRequestCase]:
    """Unknown routes, wrong methods, and bad history and feedback calls."""
    item = "/api/predictions/00000000-0000-4000-8000-000000000000"
    cases: list[tuple[str, str, str, bytes, int, str]] = [
        ("unknown api route", "GET", "/api/nothing-here", b"", 404, "NotFound"),
        ("unknown nested route", "GET", "/api/predictions/x/y/z", b"", 404, "NotFound"),
        ("path traversal", "GET", "/api/../../../etc/passwd", b"", 404, "NotFound"),
        ("encoded path traversal", "GET", "/api/%2e%2e/%2e%2e/pyproject.toml", b"", 404, "NotFound"),
        ("site path traversal", "GET", "/..%2f..%2fpyproject.toml", b"", 404, "NotFound"),
        ("delete predictions without clientId", "DELETE", "/api/predictions", b"", 400, "BadRequest"),
        # A method a route does not have: on AWS, the same gateway response as an unknown route.
        ("put health", "PUT", "/api/health", b"{}", 404, "NotFound"),
        ("patch an item", "PATCH", item, b"{}", 404, "NotFound"),
        ("get feedback", "GET", item + "/feedback", b"", 404, "NotFound"),
        ("options on predictions", "OPTIONS", "/api/predictions", b"", 404, "NotFound"),
        ("list without clientId", "GET", "/api/predictions", b"", 400, "BadRequest"),
        ("list with a bad clientId", "GET", "/api/predictions?clientId=%00%0a", b"", 400, "BadRequest"),
        ("list with a bad limit", "GET", f"/api/predictions?clientId={CLIENT_ID}&limit=1e9", b"", 400, "BadRequest"),
        (
            "list with a negative limit",
            "GET",
            f"/api/predictions?clientId={CLIENT_ID}&limit=-1",
            b"",
            400,
            "BadRequest",
        ),
        (
            "list with a forged cursor",
            "GET",
            f"/api/predictions?clientId={CLIENT_ID}&cursor=eyJpZCI6IHsiUyI6ICJ4In19",
            b"",
            400,
            "BadRequest",
        ),
        (
            "list with a lone-surrogate cursor",
            "GET",
            f"/api/predictions?clientId={CLIENT_ID}&cursor={LONE_SURROGATE_CURSOR}",
            b"",
            400,
            "BadRequest",
        ),
        (
            "list with a NaN cursor",
            "GET",
            f"/api/predictions?clientId={CLIENT_ID}&cursor={NAN_CURSOR}",
            b"",
            400,
            "BadRequest",
        ),
        (
            "list with a UTF-16 cursor",
            "GET",
            f"/api/predictions?clientId={CLIENT_ID}&cursor={UTF16_CURSOR}",
            b"",
            400,
            "BadRequest",
        ),
        (
            "list with a superscript limit",
            "GET",
            f"/api/predictions?clientId={CLIENT_ID}&limit=%C2%B2",
            b"",
            400,
            "BadRequest",
        ),
        ("list with an empty limit", "GET", f"/api/predictions?clientId={CLIENT_ID}&limit=", b"", 400, "BadRequest"),
        ("executions with a superscript limit", "GET", "/api/executions?limit=%C2%B2", b"", 400, "BadRequest"),
        ("get an unknown item", "GET", f"{item}?clientId={CLIENT_ID}", b"", 404, "NotFound"),
        (
            "get an item that is not a uuid",
            "GET",
            f"/api/predictions/..%2f..?clientId={CLIENT_ID}",
            b"",
            404,
            "NotFound",
        ),
        ("feedback not json", "POST", item + "/feedback", b"label=3", 400, "BadRequest"),
        ("feedback nested json", "POST", item + "/feedback", _nested(NESTING_DEPTH, "[", "]"), 400, "BadRequest"),
        (
            "feedback label is text",
            "POST",
            item + "/feedback",
            json.dumps({"clientId": CLIENT_ID, "label": "3"}).encode(),
            400,
            "BadRequest",
        ),
        (
            "feedback label out of range",
            "POST",
            item + "/feedback",
            json.dumps({"clientId": CLIENT_ID, "label": 10}).encode(),
            400,
            "BadRequest",
        ),
        (
            "feedback label is a boolean",
            "POST",
            item + "/feedback",
            json.dumps({"clientId": CLIENT_ID, "label": True}).encode(),
            400,
            "BadRequest",
        ),
        (
            "feedback with NaN beside its fields",
            "POST",
            item + "/feedback",
            b'{"clientId": "' + CLIENT_ID.encode() + b'", "label": 3, "x": NaN}',
            400,
            "BadRequest",
        ),
        (
            "feedback with a lone surrogate",
            "POST",
            item + "/feedback",
            b'{"clientId": "' + CLIENT_ID.encode() + b'", "label": 3, "x": "\\ud800"}',
            400,
            "BadRequest",
        ),
        (
            "feedback oversized",
            "POST",
            item + "/feedback",
            b'{"a":"' + b"x" * OVERSIZED_BODY_BYTES + b'"}',
            413,
            "ImageTooLarge",
        ),
        ("unknown execution", "GET", "/api/executions/arn:aws:states:nowhere", b"", 404, "NotFound"),
    ]
    return [
        BadRequestCase(name, method, path, content, status, code) for name, method, path, content, status, code in cases
    ]


def all_cases() -> list[BadRequestCase]:
    return image_cases() + body_cases() + route_cases()
