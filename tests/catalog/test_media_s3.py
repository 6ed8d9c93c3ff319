"""Product images in an S3-compatible bucket (``LIVESHOP_MEDIA_STORE=s3``), on both databases,
against moto's in-process S3: an upload lands as two objects (the image and its thumbnail)
with their type and cache header, the product's URL is the bucket's public one, and removing
the image deletes both objects."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto import mock_aws
from PIL import Image

from liveshop.accounts.models import Role
from liveshop.app import create_app
from liveshop.catalog.images import thumbnail_url
from liveshop.catalog.media_store import media_store
from liveshop.core.db import Database
from liveshop.core.settings import Settings
from tests.catalog.helpers import new_shop, product_body
from tests.support import MakeActor

BUCKET = "liveshop-media-test"
PUBLIC = "https://cdn.example.test/"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "eu-west-2"),
    ):
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-2")
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
        )
        yield client


async def test_an_upload_goes_to_the_bucket_and_a_removal_deletes_it(
    s3: Any, db: Database, db_url: str, tmp_path: Path, make_actor: MakeActor
) -> None:
    settings = Settings(
        database_url=db_url,
        media_dir=tmp_path / "media",
        media_store="s3",
        media_s3_bucket=BUCKET,
        media_s3_prefix=f"{tmp_path.name}/",  # one store (client) per test
        media_s3_region="eu-west-2",
        media_s3_public_url=PUBLIC,
    )
    app = create_app(settings, database=db)
    seller = await make_actor(Role.SELLER)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        shop = await new_shop(client, seller, "s3-shop")
        made = await client.post(
            f"/api/v1/shops/{shop['id']}/products",
            json=product_body(images=[]),
            headers=seller.headers,
        )
        pid = made.json()["id"]
        png = BytesIO()
        Image.new("RGB", (2000, 1000), (10, 120, 200)).save(png, "PNG")
        resp = await client.post(
            f"/api/v1/products/{pid}/images",
            files={"file": ("a.png", png.getvalue(), "image/png")},
            headers=seller.headers,
        )
        assert resp.status_code == 201, resp.text
        [url] = resp.json()["images"]
        head = f"{PUBLIC}{tmp_path.name}/products/{pid}/"
        assert url.startswith(head) and url.endswith(".webp")
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
        key = url[len(PUBLIC) :]
        assert keys == sorted([key, thumbnail_url(url)[len(PUBLIC) :]])
        got = s3.get_object(Bucket=BUCKET, Key=key)
        assert got["ContentType"] == "image/webp" and "immutable" in got["CacheControl"]
        with Image.open(BytesIO(got["Body"].read())) as full:
            assert (full.format, full.size) == ("WEBP", (1600, 800))
        assert not list((tmp_path / "media").rglob("*"))  # nothing written locally

        removed = await client.delete(f"/api/v1/products/{pid}/images/0", headers=seller.headers)
        assert removed.status_code == 200 and removed.json()["images"] == []
        assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_the_store_maps_only_its_own_urls_to_keys() -> None:
    store = media_store(
        Settings(
            media_store="s3",
            media_s3_bucket="b",
            media_s3_endpoint_url="http://127.0.0.1:9000",
            media_s3_region="us-east-1",
        )
    )
    assert store.url_of("products/1/x.webp") == "http://127.0.0.1:9000/b/products/1/x.webp"
    assert store.key_of("http://127.0.0.1:9000/b/products/1/x.webp") == "products/1/x.webp"
    assert store.key_of("https://elsewhere.test/b/products/1/x.webp") is None
    assert store.key_of("http://127.0.0.1:9000/b/../etc/passwd") is None
    local = media_store(Settings(media_dir=Path("/tmp/m")))
    assert local.key_of("/media/products/1/x.webp") == "products/1/x.webp"
    assert local.key_of("/media/../secret") is None
