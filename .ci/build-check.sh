#!/usr/bin/env bash
# Shipping check: build the wheel and sdist with `python -m build`, `twine check` them, resolve the wheel
# for every supported platform, install it with [s3,tables] into a fresh venv and use it there as a user
# would (doctor, the design-day demo, the public imports, the bundled station index); then install from
# the checkout as docs/installation.md says.
# Leaves the wheel and sdist in dist/ (for deploy/Dockerfile users and releases).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
export PIP_DISABLE_PIP_VERSION_CHECK=1

# `build` comes with the test extra; use the project venv when there is one.
python="${PYTHON:-python3}"
if [[ -z "${PYTHON:-}" && -x .venv/bin/python ]]; then
    python=.venv/bin/python
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

rm -rf dist
"$python" -m build --outdir dist . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheel="$(ls dist/epcloud-*.whl)"
sdist="$(ls dist/epcloud-*.tar.gz)"
echo "built $wheel and $sdist"

# The sdist must carry what a build from it needs; the wheel the package data.
# (Listings go to files first: `grep -q` closing a pipe early would fail the pipeline under pipefail.)
tar -tzf "$sdist" >"$work/sdist.txt"
for member in pyproject.toml README.md LICENSE src/epcloud/data/stations.bin.gz src/epcloud/py.typed; do
    grep -q "/$member\$" "$work/sdist.txt" || { echo "sdist lacks $member"; exit 1; }
done
"$python" -m zipfile -l "$wheel" >"$work/wheel.txt"
grep -q "epcloud/data/stations.bin.gz" "$work/wheel.txt" || { echo "wheel lacks the station index"; exit 1; }
grep -q "dist-info/licenses/LICENSE" "$work/wheel.txt" || { echo "wheel lacks the LICENSE"; exit 1; }
# The metadata PyPI would show (README rendering, classifiers, license) is valid.
"$python" -m twine check --strict "$wheel" "$sdist"

# The wheel with [s3,tables] resolves from binary wheels on every supported OS and CPU.
bash .ci/platforms.sh "$wheel"

# A fresh venv from the base interpreter, outside the source tree so nothing is imported from src/.
python3 -m venv "$work/venv"
# The install command docs/installation.md gives for a built wheel.
"$work/venv/bin/pip" install -q "${wheel}[s3,tables]"
cd "$work"
"$work/venv/bin/epcloud" --version
"$work/venv/bin/epcloud" doctor
"$work/venv/bin/epcloud" demo --design-day -o "$work/demo"
test -f "$work/demo/summary.csv"
"$work/venv/bin/python" -c "import epcloud.simulation"
"$work/venv/bin/python" -c "
import epcloud, epcloud.simulation as sim
from epcloud.weather import StationIndex
assert epcloud.__file__.startswith('$work/venv/'), epcloud.__file__
assert epcloud.__version__ != '0.0.0+unknown', epcloud.__version__
print('epcloud', epcloud.__version__, 'from', epcloud.__file__)
print(sim.find_energyplus())
import boto3, pandas  # the extras came along
print(len(StationIndex.load().search('chicago')), 'stations match chicago')
"
# The install command docs/installation.md gives for a checkout, into another fresh venv.

python3 -m venv "$work/venv-checkout"
"$work/venv-checkout/bin/pip" install -q "$repo[s3,tables]"
"$work/venv-checkout/bin/epcloud" doctor --json >"$work/doctor.json"
"$work/venv-checkout/bin/python" -c "
import json, sys
report = json.load(open(sys.argv[1]))
assert report['engine']['runs'], report['engine']
assert report['extras']['s3']['installed'] and report['extras']['tables']['installed'], report['extras']
" "$work/doctor.json"
echo "build check passed"
