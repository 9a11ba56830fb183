"""File-system safety: atomic writes, staged output folders, safe relative paths, image headers.

Rules (DESIGN.md, Safety): nothing half-written (temp file in the same folder, then ``os.replace``); a
non-empty destination is refused unless ``overwrite``; a folder output is built in a staging folder
beside the destination and swapped in whole; file names taken from annotation files never leave the
output folder.
"""

from __future__ import annotations

import contextlib
import io as _io
import os
import posixpath
import shutil
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from fashiondata.errors import OutputExistsError, ParseError, ValidationError

#: Images with more pixels than this are refused (decompression bombs). Change it here or with the
#: environment variable ``FASHIONDATA_MAX_IMAGE_PIXELS`` (read once, at import).
MAX_IMAGE_PIXELS = int(os.environ.get("FASHIONDATA_MAX_IMAGE_PIXELS", 178_956_970))  # Pillow's, 2 × 89,478,485


def check_destination(path: str | os.PathLike[str], *, overwrite: bool) -> None:
    """Raise OutputExistsError if ``path`` exists (a non-empty folder, or a file) and not overwrite."""
    p = Path(path)
    if overwrite or not p.exists():
        return
    if p.is_dir() and not any(p.iterdir()):
        return
    raise OutputExistsError(f"{p}: exists and is not empty (give --overwrite to replace it)")


@contextlib.contextmanager
def open_atomic(path: str | os.PathLike[str], mode: str = "wb", *, overwrite: bool = True) -> Iterator[IO]:
    """Open a temp file beside ``path``; on success it replaces ``path`` atomically, on error it goes."""
    target = Path(path)
    check_destination(target, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp made it private: give it the mode open() would
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename."""
    with open_atomic(path, "wb", overwrite=overwrite) as f:
        f.write(data)


@contextlib.contextmanager
def staged_dir(path: str | os.PathLike[str], *, overwrite: bool) -> Iterator[Path]:
    """Yield an empty staging folder beside ``path``; on success it becomes ``path``.

    An existing ``path`` is replaced only with ``overwrite`` (then no stale file survives); on error
    the staging folder is removed and ``path`` is untouched.
    """
    target = Path(path)
    check_destination(target, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging", dir=target.parent))
    os.chmod(stage, 0o777 & ~_umask())  # mkdtemp made it private: give it the mode mkdir() would
    try:
        yield stage
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.replace(target, old / "x")
            os.replace(stage, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def safe_relative_path(name: str) -> str:
    """Normalise a file name taken from an annotation into a safe relative ``/`` path.

    Windows separators become ``/``; absolute paths, drive letters and ``..`` are refused with
    ValidationError, so that joining the result under an output folder never leaves it.

    >>> safe_relative_path("images\\\\a.jpg")
    'images/a.jpg'
    >>> safe_relative_path("./images/b.png")
    'images/b.png'
    """
    text = name.replace("\\", "/")
    if not text or "\x00" in text:
        raise ValidationError(f"file name {name!r} is empty or holds a NUL byte")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise ValidationError(f"file name {name!r} is absolute: refused")
    norm = posixpath.normpath(text)
    if norm == ".." or norm.startswith("../") or "/../" in f"/{norm}/":
        raise ValidationError(f"file name {name!r} leaves its folder: refused")
    if norm in (".", ""):
        raise ValidationError(f"file name {name!r} names no file")
    return norm


def join_inside(root: str | os.PathLike[str], relative: str) -> Path:
    """``root / relative`` after :func:`safe_relative_path`, guaranteed to stay under ``root``."""
    return Path(root) / safe_relative_path(relative)


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(width, height) of an image from its header (PNG, JPEG, GIF, BMP, WebP), without decoding.

    Other formats are decoded with OpenCV. Raises ParseError for an unreadable or truncated header and
    for images over :data:`MAX_IMAGE_PIXELS`.
    """
    width, height = image_header_size(path)
    check_pixel_limit(width, height, path)
    return width, height


class ImageTooLargeError(ParseError):
    """An image's header claims more pixels than :data:`MAX_IMAGE_PIXELS`."""


def check_pixel_limit(width: int, height: int, path: object, location: str | None = None) -> None:
    """Raise ImageTooLargeError when ``width × height`` exceeds :data:`MAX_IMAGE_PIXELS`."""
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageTooLargeError(
            path,
            f"image of {width}x{height} pixels exceeds the limit of {MAX_IMAGE_PIXELS} (a decompression bomb?)",
            location,
        )


def image_bytes_size(data: bytes, path: object, location: str | None = None) -> tuple[int, int] | None:
    """(width, height) of encoded image bytes from their header, checked against the pixel limit,
    before anything decodes them; None for a format whose header is not parsed here."""
    try:
        size = _size_from_head(data[:64]) or (
            (_jpeg_size_in(data) or _jpeg_size(_io.BytesIO(data), path)) if data[:2] == b"\xff\xd8" else None
        )
    except ValidationError as error:
        raise ParseError(path, str(error), location) from error
    if size is not None:
        check_pixel_limit(*size, path, location)
    return size


def image_header_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(width, height) from the header like :func:`image_size`, without the pixel limit."""
    with open(path, "rb") as f:
        head = f.read(_HEAD_BYTES)
        try:
            size = _size_from_head(head[:64]) or (
                (_jpeg_size_in(head) or _jpeg_size(f, path)) if head[:2] == b"\xff\xd8" else None
            )
        except ValidationError as error:
            raise ParseError(path, str(error)) from error
    if size is None:
        size = _size_by_decoding(path)
    width, height = size
    if width <= 0 or height <= 0:
        raise ParseError(path, f"image header gives a size of {width}x{height}")
    return width, height


def image_truncation(path: str | os.PathLike[str]) -> str | None:
    """Why a JPEG or PNG looks cut short (no end marker), or None.

    A JPEG must end with the EOI marker ``FF D9`` (trailing zero padding allowed) and a PNG with its
    ``IEND`` chunk: the same cheap test Ultralytics runs, without decoding pixels.
    """
    with open(path, "rb") as f:
        kind = image_format(f.read(16))
        f.seek(0, os.SEEK_END)
        f.seek(max(f.tell() - 1024, 0))
        tail = f.read()
    if kind == "jpeg" and not tail.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return "JPEG has no end-of-image marker: truncated"
    if kind == "png" and b"IEND" not in tail[-16:]:
        return "PNG has no IEND chunk: truncated"
    return None


def exif_orientation(path: str | os.PathLike[str]) -> int:
    """The EXIF Orientation tag (1–8) of a JPEG; 1 when absent or unreadable.

    Orientations 5–8 rotate by 90°: viewers, Pillow's ``exif_transpose`` and Ultralytics then see the
    width and height swapped. Walks the JPEG segments before the scan (JEITA CP-3451, TIFF 6.0 IFD0).
    """
    with open(path, "rb") as f:
        if f.read(2) != b"\xff\xd8":
            return 1
        while True:
            marker = f.read(2)
            length_bytes = f.read(2)
            if len(marker) < 2 or marker[0] != 0xFF or marker[1] in (0xD9, 0xDA) or len(length_bytes) < 2:
                return 1
            (length,) = struct.unpack(">H", length_bytes)
            if length < 2:
                return 1
            if marker[1] == 0xE1:
                data = f.read(length - 2)
                if data[:6] == b"Exif\x00\x00":
                    return _tiff_orientation(data[6:])
            else:
                f.seek(length - 2, os.SEEK_CUR)


def _tiff_orientation(tiff: bytes) -> int:
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return 1
    (offset,) = struct.unpack(order + "I", tiff[4:8])
    if offset + 2 > len(tiff):
        return 1
    (count,) = struct.unpack(order + "H", tiff[offset : offset + 2])
    for entry in range(offset + 2, min(offset + 2 + 12 * count, len(tiff) - 11), 12):
        tag, kind = struct.unpack(order + "HH", tiff[entry : entry + 4])
        if tag == 0x0112 and kind == 3:  # Orientation, SHORT
            (value,) = struct.unpack(order + "H", tiff[entry + 8 : entry + 10])
            return value if 1 <= value <= 8 else 1
    return 1


def image_format(data: bytes) -> str | None:
    """``jpeg``, ``png``, ``gif``, ``bmp`` or ``webp`` from an image's leading bytes, else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:2] == b"BM":
        return "bmp"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


_HEADER_BYTES = {"png": 24, "gif": 10, "bmp": 26, "webp": 30}


def _size_from_head(head: bytes) -> tuple[int, int] | None:
    kind = image_format(head)
    if kind in _HEADER_BYTES and len(head) < _HEADER_BYTES[kind]:
        raise ValidationError(f"truncated {kind.upper()} header ({len(head)} bytes)")
    if kind == "png" and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    if kind == "gif":
        return struct.unpack("<HH", head[6:10])
    if kind == "bmp" and len(head) >= 26:
        width, height = struct.unpack("<ii", head[18:26])
        return width, abs(height)
    if kind == "webp":
        chunk = head[12:16]
        if chunk == b"VP8 ":
            w, h = struct.unpack("<HH", head[26:30])
            return w & 0x3FFF, h & 0x3FFF
        if chunk == b"VP8L":
            b = head[21:25]
            return 1 + (((b[1] & 0x3F) << 8) | b[0]), 1 + (((b[3] & 0xF) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
        if chunk == b"VP8X":
            return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    return None


_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


#: Bytes read at once for a header: a JPEG's frame header is in the first 4 KiB unless EXIF data
#: (a thumbnail) comes first; then :func:`_jpeg_size` walks the file.
_HEAD_BYTES = 4096


def _jpeg_size_in(data: bytes) -> tuple[int, int] | None:
    """:func:`_jpeg_size` over bytes already read: the size, or None when the frame header is not in
    ``data`` or anything looks wrong (the file walker then decides, with its error messages)."""
    end, i = len(data), 2
    while True:
        i = data.find(b"\xff", i)
        if i < 0:
            return None
        while i < end and data[i] == 0xFF:
            i += 1
        if i + 3 > end:
            return None
        marker = data[i]
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            i += 1
            continue
        length = data[i + 1] << 8 | data[i + 2]
        if marker in _SOF_MARKERS:
            if i + 8 > end:
                return None
            return data[i + 6] << 8 | data[i + 7], data[i + 4] << 8 | data[i + 5]
        if length < 2:
            return None
        i += 1 + length


def _jpeg_size(f: IO[bytes], path: object) -> tuple[int, int]:
    """Walk JPEG segments to the first start-of-frame marker (ITU T.81, B.1.1.3)."""
    f.seek(2)
    while True:
        byte = f.read(1)
        while byte and byte != b"\xff":
            byte = f.read(1)
        while byte == b"\xff":
            byte = f.read(1)
        if not byte:
            raise ParseError(path, "truncated JPEG: no frame header found")
        marker = byte[0]
        if marker in (0x01, *range(0xD0, 0xD8)):
            continue
        length_bytes = f.read(2)
        if len(length_bytes) < 2:
            raise ParseError(path, "truncated JPEG header")
        (length,) = struct.unpack(">H", length_bytes)
        if marker in _SOF_MARKERS:
            frame = f.read(5)
            if len(frame) < 5:
                raise ParseError(path, "truncated JPEG frame header")
            height, width = struct.unpack(">HH", frame[1:5])
            return width, height
        if length < 2:
            raise ParseError(path, "corrupt JPEG segment length")
        f.seek(length - 2, os.SEEK_CUR)


def _size_by_decoding(path: str | os.PathLike[str]) -> tuple[int, int]:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ParseError(path, "not a readable image")
    return int(image.shape[1]), int(image.shape[0])


def parse_xml(path: str | os.PathLike[str]) -> Any:
    """Parse an XML file with lxml, refusing entity declarations (XXE, billion laughs) and the network.

    Returns the lxml element tree; raises ParseError with a line number for malformed XML and for any
    ``<!ENTITY`` declaration, which no annotation format needs.
    """
    from lxml import etree

    data = Path(path).read_bytes()
    if b"<!ENTITY" in data:
        line = data[: data.index(b"<!ENTITY")].count(b"\n") + 1
        raise ParseError(
            path, "XML entity declarations are refused (external entities, entity expansion)", f"line {line}"
        )
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        tree = etree.fromstring(data, parser).getroottree()
    except etree.XMLSyntaxError as error:
        line = error.position[0] if error.position else None
        raise ParseError(path, f"invalid XML: {error.msg}", f"line {line}" if line else None) from error
    if tree.docinfo.internalDTD is not None and any(True for _ in tree.docinfo.internalDTD.iterentities()):
        raise ParseError(path, "XML entity declarations are refused (external entities, entity expansion)", "DOCTYPE")
    return tree
