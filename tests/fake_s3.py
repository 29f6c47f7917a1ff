"""moto's S3-compatible server on a free loopback port, for the tests of the s3 media backend.

The real boto3 client talks to it over HTTP, from the test process and from any process the
test starts (a live gunicorn), so what is checked is what reaches the bucket.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def s3_server() -> Iterator[str]:
    """moto's server, started on 127.0.0.1 for the block; yields its endpoint URL."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str) -> Any:
    """A boto3 client of ``endpoint`` with the test credentials."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(s3={"addressing_style": "path"}),
        **CREDENTIALS,
    )


def new_bucket(client: Any) -> str:
    """A fresh, empty bucket of a name no other test uses."""
    name = f"media-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name


def s3_settings(endpoint: str, bucket_name: str, **extra: object) -> dict[str, object]:
    """The app's settings for the s3 media backend on ``bucket_name``."""
    return {
        "MEDIA_BACKEND": "s3",
        "S3_BUCKET": bucket_name,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": REGION,
        "S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "S3_PREFIX": "market",
        **extra,
    }
