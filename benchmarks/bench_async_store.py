"""AsyncS3FileSystem (S3FileSystem's boto3 calls in threads) against an aiobotocore client doing the same
PUT/GET calls (what AsyncS3FileSystem was built on before): N concurrent small PUTs then GETs on a local
moto server, variants interleaved, medians reported. The aiobotocore row needs `pip install aiobotocore`.

Run by hand:  .venv/bin/python benchmarks/bench_async_store.py [--requests N] [--concurrency C] [--repeat R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from epcloud.storage import AsyncS3FileSystem  # noqa: E402
from fixtures_s3 import MotoServer, new_client  # noqa: E402

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
PAYLOAD = b"x" * 2048


async def _round(fs: Any, requests: int, concurrency: int, tag: str) -> tuple[float, float]:
    """Seconds for `requests` PUTs, then for as many GETs, at most `concurrency` in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def gated(call: Callable[[], Any]) -> Any:
        async with gate:
            return await call()

    names = [f"{tag}/{number:05d}.bin" for number in range(requests)]
    start = time.perf_counter()
    await asyncio.gather(*(gated(lambda n=n: fs.write_bytes(n, PAYLOAD)) for n in names))
    put = time.perf_counter() - start
    start = time.perf_counter()
    read = await asyncio.gather(*(gated(lambda n=n: fs.read_bytes(n)) for n in names))
    get = time.perf_counter() - start
    assert all(data == PAYLOAD for data in read)
    return put, get


class _Aiobotocore:
    """write_bytes/read_bytes as the aiobotocore-based store did them: one awaited client call each."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client, self.bucket = client, bucket

    async def write_bytes(self, key: str, data: bytes) -> None:
        await self.client.put_object(Bucket=self.bucket, Key=f"aio/{key}", Body=data)

    async def read_bytes(self, key: str) -> bytes:
        response = await self.client.get_object(Bucket=self.bucket, Key=f"aio/{key}")
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data


async def _aiobotocore(endpoint: str, bucket: str, requests: int, concurrency: int) -> tuple[float, float]:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    config = AioConfig(max_pool_connections=max(10, concurrency), retries={"mode": "standard"})
    session = get_session()
    async with session.create_client("s3", endpoint_url=endpoint, config=config, **CREDENTIALS) as client:
        fs = _Aiobotocore(client, bucket)
        await fs.write_bytes("warm", b"1")  # client built and connected before the clock starts
        return await _round(fs, requests, concurrency, uuid.uuid4().hex[:8])


async def _threaded(endpoint: str, bucket: str, requests: int, concurrency: int) -> tuple[float, float]:
    store = AsyncS3FileSystem(
        bucket, "thr", endpoint_url=endpoint, max_concurrency=concurrency, **CREDENTIALS
    )
    async with store as fs:
        await fs.write_bytes("warm", b"1")
        return await _round(fs, requests, concurrency, uuid.uuid4().hex[:8])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    server = MotoServer()
    try:
        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        new_client(server.endpoint).create_bucket(Bucket=bucket)
        variants = {"aiobotocore": _aiobotocore, "AsyncS3FileSystem (threads)": _threaded}
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for _ in range(args.repeat):
            for name, run in variants.items():  # interleaved: load drift hits both alike
                figures[name].append(
                    asyncio.run(run(server.endpoint, bucket, args.requests, args.concurrency))
                )
        size = len(PAYLOAD)
        print(f"{args.requests} PUTs then {args.requests} GETs of {size} B, {args.concurrency} in flight,")
        print(f"median of {args.repeat} interleaved rounds on a local moto server")
        for name, rounds in figures.items():
            put = statistics.median(p for p, _ in rounds)
            get = statistics.median(g for _, g in rounds)
            print(
                json.dumps(
                    {
                        "variant": name,
                        "put_s": round(put, 3),
                        "get_s": round(get, 3),
                        "put_per_s": round(args.requests / put),
                        "get_per_s": round(args.requests / get),
                    }
                )
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
