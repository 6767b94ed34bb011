#!/usr/bin/env bash
# The oldest dependencies pyproject.toml allows: resolve epcloud's own requirements with uv's
# `--resolution lowest-direct` into a fresh venv, add the test tools (newest), and run the storage tests
# there. Shows that every lower bound is real: an older release than the bound would fail here.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1

# uv does the lowest-direct resolution; it comes from PyPI like any other tool.
source .ci/uv-tools.sh

# The async store runs the sync one in threads, so the async extra is boto3 alone: one venv, every extra
# the storage tests use.
extras=s3,async,tables,fsspec
"$uv" venv -q --python python3 "$work/venv"
venv_python="$work/venv/bin/python"
# Oldest first: the test tools installed afterwards keep what is there when it satisfies them.
"$uv" pip install -q --python "$venv_python" --resolution lowest-direct ".[$extras]"
"$uv" pip install -q --python "$venv_python" 'moto[server]>=5.0' 'pytest>=8' 'pytest-asyncio>=0.23' \
    'pytest-timeout>=2.2' 'psutil>=5.9'
echo "[$extras] oldest allowed:" $("$uv" pip list --python "$venv_python" 2>/dev/null \
    | grep -Ei '^(boto3|botocore|pandas|pyarrow|numpy|fsspec|rich) ' | tr -s ' ' | tr ' ' '=')
# The oldest tables stack works with the numpy it came with (an ABI break fails on import). It ends
# with os._exit: on a loaded machine pyarrow (16 to 26 alike) sometimes aborts in its own teardown at
# interpreter exit ("terminate called without an active exception"), after the work is done.
"$venv_python" -c "
import io, os, sys
import pandas as pd, pyarrow.parquet as pq
buffer = io.BytesIO()
pd.DataFrame({'a': [1, 2]}).to_parquet(buffer)
assert pq.read_table(io.BytesIO(buffer.getvalue())).num_rows == 2
sys.stdout.flush()
os._exit(0)
"
"$venv_python" -m pytest -q -p no:cacheprovider tests/storage
echo "lowest dependencies passed"
