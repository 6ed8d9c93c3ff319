"""Where uploaded product images are kept: the media directory (served at ``/media/``) or an
S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, …), chosen by ``Settings.media_store``.

A store maps a *key* (``products/<id>/<name>.webp``) to the URL buyers load it from, and back;
``put`` and ``delete`` are blocking (the image code runs them in a worker thread). S3 goes
through boto3, the AWS SDK: credentials come from its usual chain (``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``, a profile, an instance role) — never from liveshop's settings —
and the bucket must let buyers read the objects at ``media_s3_public_url`` (a public bucket
or a CDN in front of it). Objects are written with their type and a year-long immutable
cache header: an image's name is random and never reused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import boto3

from liveshop.core.settings import Settings

LOCAL_URL = "/media/"
CACHE_CONTROL = "public, max-age=31536000, immutable"


class MediaStore(Protocol):
    def url_of(self, key: str) -> str: ...

    def key_of(self, url: str) -> str | None:
        """The key behind a URL of this store (None for any other URL)."""
        ...

    def put(self, files: dict[str, bytes], content_type: str) -> None: ...

    def delete(self, keys: list[str]) -> None: ...


def _safe_key(key: str) -> str | None:
    if not key or key.startswith("/") or ".." in key.split("/") or "\\" in key:
        return None
    return key


class LocalMediaStore:
    """Files under ``root``, served by the app at ``/media/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def url_of(self, key: str) -> str:
        return LOCAL_URL + key

    def key_of(self, url: str) -> str | None:
        return _safe_key(url[len(LOCAL_URL) :]) if url.startswith(LOCAL_URL) else None

    def put(self, files: dict[str, bytes], content_type: str) -> None:
        for key, content in files.items():
            path = self.root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(content)
            tmp.replace(path)

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            (self.root / key).unlink(missing_ok=True)


class S3MediaStore:
    """Objects in an S3-compatible bucket, under ``prefix``, loaded from ``public_url``."""

    def __init__(self, client: Any, *, bucket: str, prefix: str, public_url: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.public_url = public_url if public_url.endswith("/") else public_url + "/"

    def url_of(self, key: str) -> str:
        return self.public_url + self.prefix + key

    def key_of(self, url: str) -> str | None:
        head = self.public_url + self.prefix
        return _safe_key(url[len(head) :]) if url.startswith(head) else None

    def put(self, files: dict[str, bytes], content_type: str) -> None:
        for key, content in files.items():
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + key,
                Body=content,
                ContentType=content_type,
                CacheControl=CACHE_CONTROL,
            )

    def delete(self, keys: list[str]) -> None:
        if keys:
            self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": self.prefix + k} for k in keys], "Quiet": True},
            )


def default_public_url(settings: Settings) -> str:
    """Path-style from a custom endpoint (MinIO: ``http://minio:9000/<bucket>/``), else the
    bucket's virtual-hosted AWS address."""
    if settings.media_s3_public_url:
        return settings.media_s3_public_url
    bucket = settings.media_s3_bucket
    if settings.media_s3_endpoint_url:
        return f"{settings.media_s3_endpoint_url.rstrip('/')}/{bucket}/"
    region = settings.media_s3_region or "us-east-1"
    return f"https://{bucket}.s3.{region}.amazonaws.com/"


_stores: dict[tuple[str, ...], MediaStore] = {}


def media_store(settings: Settings) -> MediaStore:
    """The store the settings choose (one per configuration and process: a boto3 client is
    thread-safe and slow to make)."""
    if settings.media_store == "local":
        return LocalMediaStore(settings.media_dir)
    key = (
        settings.media_s3_bucket,
        settings.media_s3_prefix,
        settings.media_s3_endpoint_url,
        settings.media_s3_region,
        default_public_url(settings),
    )
    found = _stores.get(key)
    if found is None:
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.media_s3_endpoint_url or None,
            region_name=settings.media_s3_region or None,
        )
        found = _stores[key] = S3MediaStore(
            client,
            bucket=settings.media_s3_bucket,
            prefix=settings.media_s3_prefix,
            public_url=key[-1],
        )
    return found
