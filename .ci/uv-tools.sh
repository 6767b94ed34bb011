# Sourced by the .ci scripts that need uv: picks the Python to start from ($PYTHON, else the project's
# .venv, else python3), makes a temporary folder $work (removed on exit) and installs uv from PyPI into
# a venv of its own there: sets $python, $work, $uv and $pip.
python="${PYTHON:-python3}"
if [[ -z "${PYTHON:-}" && -x .venv/bin/python ]]; then
    python=.venv/bin/python
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/tools"
"$work/tools/bin/pip" install -q uv
uv="$work/tools/bin/uv"
pip="$work/tools/bin/pip"
