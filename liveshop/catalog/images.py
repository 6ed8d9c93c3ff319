"""Product images uploaded by a shop's staff: checked, resized and stored in the media store
(``catalog.media_store``: the media directory served at ``/media/``, or an S3-compatible
bucket, by ``Settings.media_store``).

- **Type** is what the bytes are, not what the browser says: Pillow must open them as JPEG,
  PNG or WebP (anything else — an SVG, a PDF, a renamed script — is a 422 ``bad-image``).
- **Size**: at most ``Settings.media_max_image_bytes`` (413 ``image-too-large``), and at most
  ``MAX_PIXELS`` pixels before anything is decoded (a decompression bomb is refused from its
  header alone).
- Every upload is re-encoded (EXIF orientation applied, metadata dropped) as WebP: the image
  at most ``FULL_PX`` on its long side, and a ``THUMB_PX`` thumbnail beside it
  (``thumbnail_url``). Decoding and encoding run in a worker thread, never on the event loop.
- The product's ``images`` list changes under a lock of the product's row, so two uploads at
  once both land; the files are written before the row commits and removed if it does not.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from liveshop.catalog.media_store import MediaStore
from liveshop.catalog.models import Product
from liveshop.core.clock import utcnow
from liveshop.core.errors import NotFound, Problem, Unprocessable
from liveshop.core.i18n import gettext as _
from liveshop.core.i18n import lazy_gettext

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PIXELS = 40_000_000  # 8000 x 5000
FULL_PX = 1600
THUMB_PX = 400
MAX_IMAGES = 12  # as catalog.schemas.ProductIn
THUMB_SUFFIX = f"-{THUMB_PX}.webp"
# An uploaded image's URL ends in its key's tail, whichever store holds it.
UPLOADED = re.compile(r"/products/\d+/[0-9a-f]{16}\.webp$")


class ImageTooLarge(Problem):
    status = 413
    code = "image-too-large"
    title = lazy_gettext("Image too large")


@dataclass(frozen=True)
class Encoded:
    full: bytes
    thumb: bytes


def _bad(detail: str) -> Unprocessable:
    return Unprocessable(detail, code="bad-image")


def encode(data: bytes) -> Encoded:
    """The upload as a WebP of at most FULL_PX and its THUMB_PX thumbnail (CPU-bound)."""
    try:
        with Image.open(BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
        if fmt not in ALLOWED_FORMATS:
            raise _bad(f"a {fmt or 'unknown'} file is not a JPEG, PNG or WebP image")
        if width * height > MAX_PIXELS:
            raise _bad(f"{width}×{height} pixels is more than an image may have")
        with Image.open(BytesIO(data)) as img:
            img.load()
            upright = ImageOps.exif_transpose(img)
            mode = "RGBA" if upright.mode in ("RGBA", "LA", "P") else "RGB"
            pic = upright.convert(mode)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise _bad("the file is not an image that can be read (JPEG, PNG or WebP)") from exc
    full = pic.copy()
    full.thumbnail((FULL_PX, FULL_PX))
    thumb = pic.copy()
    thumb.thumbnail((THUMB_PX, THUMB_PX))
    out_full, out_thumb = BytesIO(), BytesIO()
    full.save(out_full, "WEBP", quality=85)
    thumb.save(out_thumb, "WEBP", quality=80)
    return Encoded(out_full.getvalue(), out_thumb.getvalue())


def thumbnail_url(url: str) -> str:
    """The thumbnail of an uploaded image; any other image URL is its own thumbnail."""
    if UPLOADED.search(url):
        return url[: -len(".webp")] + THUMB_SUFFIX
    return url


def _keys_of(store: MediaStore, url: str) -> list[str]:
    """The stored objects behind an uploaded image's URL (none for other URLs)."""
    key = store.key_of(url)
    if key is None or not key.startswith("products/") or not UPLOADED.search("/" + key):
        return []
    return [key, key[: -len(".webp")] + THUMB_SUFFIX]


async def _locked_product(session: AsyncSession, product_id: int) -> Product:
    product = await session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if product is None:
        raise NotFound(
            _("product %(product_id)s does not exist", product_id=product_id),
            code="product-not-found",
        )
    return product


async def add_image(
    session: AsyncSession,
    product_id: int,
    data: bytes,
    *,
    store: MediaStore,
    max_bytes: int,
) -> Product:
    """Check, resize and store one image, appended to the product's images; commits."""
    if len(data) > max_bytes:
        raise ImageTooLarge(
            _(
                "the image is %(data)s bytes; at most %(max_bytes)s are accepted",
                data=len(data),
                max_bytes=max_bytes,
            ),
            max_bytes=max_bytes,
        )
    if not data:
        raise _bad("the file is empty")
    encoded = await asyncio.to_thread(encode, data)
    product = await _locked_product(session, product_id)
    if len(product.images or []) >= MAX_IMAGES:
        raise Unprocessable(
            _(
                "a product has at most %(max_images)s images; remove one first",
                max_images=MAX_IMAGES,
            ),
            code="too-many-images",
        )
    name = f"products/{product.id}/{secrets.token_hex(8)}"
    url = store.url_of(f"{name}.webp")
    files = {f"{name}.webp": encoded.full, f"{name}{THUMB_SUFFIX}": encoded.thumb}
    await asyncio.to_thread(store.put, files, "image/webp")
    try:
        product.images = [*(product.images or []), url]
        product.updated_at = utcnow()
        await session.commit()
    except BaseException:
        await asyncio.to_thread(store.delete, list(files))
        raise
    return product


async def remove_image(
    session: AsyncSession, product_id: int, url: str, *, store: MediaStore
) -> Product:
    """Take one image off the product; an uploaded one's files go once that has committed."""
    product = await _locked_product(session, product_id)
    if url not in (product.images or []):
        raise NotFound(_("the product has no such image"), code="image-not-found")
    product.images = [u for u in product.images if u != url]
    product.updated_at = utcnow()
    await session.commit()
    await asyncio.to_thread(store.delete, _keys_of(store, url))
    return product
