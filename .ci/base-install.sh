#!/usr/bin/env bash
# A base install (`pip install epcloud`, no extras) as a user has it: commands that need an extra must say
# which in one line and exit 2, never a traceback; a simulation must run. tests/cli/test_cli_extras.py
# checks the same on a lighter venv in every test run; this builds the real one with pip.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q -e .
epcloud="$work/venv/bin/epcloud"
cd "$work"

for module in boto3 pandas pyarrow; do
    if "$work/venv/bin/python" -c "import $module" 2>/dev/null; then
        echo "the base install has $module: it is no base install"; exit 1
    fi
done

"$epcloud" example shoebox -o shoebox.idf
"$epcloud" run shoebox.idf -w chicago --design-day -o run-1 >/dev/null
printf 'wall_r\n1\n' > sweep.csv
"$epcloud" study create st sweep.csv --design-day >/dev/null
"$epcloud" study run st >/dev/null

expect_extra() {  # expect_extra EXTRA COMMAND...: exit 2, one `error:` line naming the extra
    local extra="$1"; shift
    set +e
    "$epcloud" "$@" >"$work/out" 2>"$work/err"
    local code=$?
    set -e
    if [[ $code -ne 2 ]] || grep -q Traceback "$work/err" || [[ $(wc -l <"$work/err") -ne 1 ]] \
        || ! grep -q "needs $extra: pip install 'epcloud\[$extra\]'" "$work/err"; then
        echo "epcloud $*: expected one line naming the $extra extra and exit 2, got $code:"
        cat "$work/err"; exit 1
    fi
}
expect_extra tables collect st
expect_extra tables report st -o report.html
expect_extra s3 status s3://bucket/study-001
expect_extra s3 run shoebox.idf --design-day -o s3://bucket/run-1
echo "base install: extras named, no tracebacks"
