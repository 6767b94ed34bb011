"""A study's collected tables as pyarrow datasets read in place, in any store, and SQL over them (DuckDB).

Local folders are read by pyarrow's own file system, S3 stores by pyarrow's S3 file system configured with
the store's resolved endpoint, region and credentials (so S3-compatible services work, not only AWS), fsspec
stores through pyarrow's fsspec handler. DuckDB queries the same datasets: its own S3 reader (the httpfs
extension) is downloaded at run time, which offline machines cannot do, and it ignores the endpoint that
botocore resolves from the environment.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from epcloud.errors import ResultNotFoundError, StudyError
from epcloud.study import layout

if TYPE_CHECKING:
    import duckdb
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    from epcloud.storage import FileSystem

__all__ = ["DATASETS", "arrow_filesystem", "open_dataset", "query_connection", "run_query"]

log = logging.getLogger(__name__)

#: The datasets of a collected study, by the name SQL gives them.
DATASETS = ("jobs", "timeseries")


def arrow_filesystem(fs: FileSystem) -> tuple[pafs.FileSystem, str]:
    """A pyarrow file system reading ``fs``, and the path of the store's root in it."""
    from epcloud.storage import LocalFileSystem
    from epcloud.storage.fsspec_adapter import FsspecFileSystem
    from epcloud.storage.s3 import S3FileSystem

    if isinstance(fs, LocalFileSystem):
        import pyarrow.fs as pafs

        return pafs.LocalFileSystem(), str(fs.root or Path.cwd())
    if isinstance(fs, S3FileSystem):
        return _s3_filesystem(fs), f"{fs.bucket}/{fs.prefix}".rstrip("/")
    if isinstance(fs, FsspecFileSystem):
        import pyarrow.fs as pafs

        return pafs.PyFileSystem(pafs.FSSpecHandler(fs.fs)), fs.root.rstrip("/")
    raise TypeError(
        f"cannot read a dataset in {fs!r}: give a local folder, an S3 store or an fsspec store "
        "(epcloud.storage.open_fs)"
    )


def _s3_filesystem(fs: Any) -> pafs.S3FileSystem:
    """pyarrow's S3 reader with the endpoint, region and credentials boto3 resolved for this store."""
    import pyarrow.fs as pafs

    from epcloud.storage.credentials import s3_connection

    connection = s3_connection(fs)
    options: dict[str, Any] = {"region": connection.region}
    if connection.access_key is not None:
        options.update(access_key=connection.access_key, secret_key=connection.secret_key)
        if connection.session_token:
            options["session_token"] = connection.session_token
    else:
        options["anonymous"] = True
    endpoint = urlsplit(connection.endpoint_url or "")
    if endpoint.netloc and not endpoint.netloc.endswith(".amazonaws.com"):
        options.update(endpoint_override=endpoint.netloc, scheme=endpoint.scheme or "https")
    return pafs.S3FileSystem(**options)


def open_dataset(fs: FileSystem, name: str) -> ds.Dataset:
    """The collected table ``name`` ("jobs" or "timeseries") of the study in ``fs``, read in place.

    ``timeseries`` is hive-partitioned by ``variable`` (the variable's slug); its files hold the full
    name in ``variable_name``. Raises `ResultNotFoundError` when the study was not collected yet.
    """
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    if name not in DATASETS:
        raise ValueError(f"no dataset {name!r} in a study; the datasets are {', '.join(DATASETS)}")
    arrow_fs, root = arrow_filesystem(fs)
    table = layout.JOBS_TABLE if name == "jobs" else layout.TIMESERIES
    path = f"{root}/{table}" if root else table
    found = arrow_fs.get_file_info(path)
    if found.type == pafs.FileType.NotFound:
        hint = "" if name == "jobs" else " (no series were requested, or none collected)"
        raise ResultNotFoundError(
            f"no {name} table in {fs.url()}{hint}: collect the study first (Study.collect())"
        )
    if name == "jobs":
        return ds.dataset(path, filesystem=arrow_fs, format="parquet")
    import pyarrow as pa

    from epcloud.study.collect import series_schema

    partitioning = ds.partitioning(pa.schema([("variable", pa.string())]), flavor="hive")
    schema = series_schema().append(pa.field("variable", pa.string()))
    return ds.dataset(path, filesystem=arrow_fs, format="parquet", partitioning=partitioning, schema=schema)


def query_connection(fs: FileSystem) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the study's collected tables as views ``jobs`` and ``timeseries``
    (``timeseries`` only when series were collected); needs ``epcloud[query]``."""
    try:
        import duckdb
    except ImportError as exc:
        raise ImportError("SQL over a study needs DuckDB: pip install 'epcloud[query]'") from exc
    connection = duckdb.connect()
    registered = []
    for name in DATASETS:
        try:
            dataset = open_dataset(fs, name)
        except ResultNotFoundError:
            if name == "jobs":
                raise
            continue
        connection.register(name, dataset)
        registered.append(name)
    log.info("tables %s of %s registered", registered, fs.url())
    return connection


def run_query(fs: FileSystem, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and rows of one SQL statement over the study's tables."""
    import duckdb

    connection = query_connection(fs)
    try:
        relation = connection.execute(sql)
        columns = [d[0] for d in relation.description or ()]
        return columns, relation.fetchall()
    except duckdb.Error as exc:
        raise StudyError(f"the query failed: {str(exc).strip()}") from exc
    finally:
        connection.close()
