"""Store URLs at the command line, against the moto S3 server: outputs where asked, store errors exit 3."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import cli_env, json_error, one_line_error, run_cli


def _s3_env(s3_options: dict[str, str]) -> dict[str, str]:
    return cli_env(
        AWS_ENDPOINT_URL_S3=s3_options["endpoint_url"],
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )


def test_run_json_names_the_store_url(
    shoebox: Path, tmp_path: Path, s3_bucket: str, s3_options: dict
) -> None:
    url = f"s3://{s3_bucket}/cli/run-7"
    ran = run_cli(
        "run", str(shoebox), "--design-day", "-o", url, "--json", cwd=tmp_path, env=_s3_env(s3_options)
    )
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["output_dir"] == url
    summary = run_cli(
        "run", str(shoebox), "--design-day", "-o", url + "b", cwd=tmp_path, env=_s3_env(s3_options)
    )
    assert summary.code == 0 and f"Outputs {url}b" in summary.out


def test_an_unreachable_store_is_a_store_error(tmp_path: Path, s3_options: dict) -> None:
    env = _s3_env({**s3_options, "endpoint_url": "http://127.0.0.1:9"})  # nothing listens on port 9
    line = one_line_error(run_cli("status", "s3://bucket/study", cwd=tmp_path, env=env), code=3)
    assert "127.0.0.1:9" in line or "bucket" in line, line
    error = json_error(run_cli("status", "s3://bucket/study", "--json", cwd=tmp_path, env=env), 3)
    assert error["type"] == "StorageConnectionError"
