"""Visit photos: what a phone uploads is decoded and written anew before the server keeps it.

A file that merely starts like a JPEG can carry HTML or script after the header; a real photo carries
EXIF metadata (the phone's GPS position, its serial number, the owner's name). Decoding the image with
Pillow and encoding the pixels again keeps exactly the picture: anything that does not decode is
refused, and no metadata survives (the EXIF orientation is applied to the pixels first, so the photo
still shows the right way up).
"""

import io
import warnings

import anyio.to_thread
from PIL import Image, ImageOps, UnidentifiedImageError

from fieldcrm.lib.errors import InvalidInput

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; more is not a phone camera (and a decompression bomb is refused)
MAX_SIDE = 4096  # stored photos are scaled down to this many pixels on their long side
JPEG_QUALITY = 85
# Served photos are never sniffed as something else, never run anything, and open as an image of their own.
MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def photo_name(visit_id: object, kind: str) -> str:
    """The file name a saved photo gets (Content-Disposition)."""
    return f"visit-{visit_id}.{'png' if kind == 'image/png' else 'jpg'}"


def _refuse(kind: str) -> InvalidInput:
    label = FORMATS[kind]
    return InvalidInput(
        f"the file is not a {label} image that can be read; take or choose the photo again", field="body"
    )


def reencode_sync(content: bytes, kind: str) -> bytes:
    """The image's pixels encoded anew in the same format, with no metadata (blocking; see ``reencode``).

    Raises:
        InvalidInput: The content does not decode as an image of ``kind``, or is far too large.
    """
    fmt = FORMATS[kind]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[fmt]) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise _refuse(kind)
                image.load()
                picture = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _refuse(kind) from None
    except Image.DecompressionBombWarning:
        raise _refuse(kind) from None
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if fmt == "JPEG":
        picture.convert("RGB").save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        if picture.mode not in {"1", "L", "LA", "P", "RGB", "RGBA"}:
            picture = picture.convert("RGBA")
        picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


async def reencode(content: bytes, kind: str) -> bytes:
    """``reencode_sync`` off the event loop (decoding a large photo takes a while)."""
    return await anyio.to_thread.run_sync(reencode_sync, content, kind)
