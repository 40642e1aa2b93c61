#!/usr/bin/env bash
# Assemble the offline build context of a packguard image into DIR.
#
#   libs/analyzer/image/build-context.sh DIR                 # the analyzer image
#   docker build --network none -t localhost/packguard-analyzer:0.1.0 DIR
#
#   DOCKERFILE=F libs/analyzer/image/build-context.sh DIR DIST...   # any other image
#
# Local distributions are built with `pip wheel --no-deps`; runtime dependencies are
# downloaded as binary wheels only (never an sdist: building one runs its code), pinned
# from constraints.txt, for the image's interpreter and platform. The package index is
# whatever pip is configured to use; nothing here names one.
#
# Without DIST arguments the context is the analyzer's: packguard-common and
# packguard-analyzer plus the fixed list of runtime dependencies below (the analyzer
# installs them with --no-deps). With DIST arguments (repo-relative distribution dirs,
# e.g. libs/common services/gateway) the context holds those wheels and their whole
# dependency closure as pip resolves it under the constraints.
#
# Either way the context is:
#   <context>/Dockerfile         DOCKERFILE (default: the analyzer's, beside this script)
#   <context>/requirements.txt   exact pins of every wheel below
#   <context>/wheels/*.whl
# and the analyzer's also has the PEP 517 build backends its dynamic phase builds sdists
# with (offline, --no-build-isolation), pinned from CONSTRAINTS:
#   <context>/backends.txt       exact pins of every wheel below
#   <context>/backends/*.whl
#
# Environment: PYTHON (pip to use; default the repo's .venv), CONSTRAINTS (default
# <repo>/constraints.txt), TARGET_PYTHON (default 3.11, Debian bookworm's),
# TARGET_PLATFORM (default manylinux_2_17_<uname -m>; bookworm has glibc 2.36; several
# separated by spaces),
# DOCKERFILE, EXTRA_REQUIREMENTS (names added to a DIST closure, pinned from CONSTRAINTS:
# pip evaluates environment markers with PYTHON, not the target, so a dependency only
# the target's interpreter needs must be named).
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 DIR [DIST...]" >&2
    exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out="$1"
shift
dists=("$@")
python="${PYTHON:-$repo/.venv/bin/python}"
constraints="${CONSTRAINTS:-$repo/constraints.txt}"
dockerfile="${DOCKERFILE:-$here/Dockerfile}"
target_python="${TARGET_PYTHON:-3.11}"
target_platform="${TARGET_PLATFORM:-manylinux_2_17_$(uname -m)}"
# Runtime dependencies of packguard-analyzer and of the pydantic-only parts of
# packguard-common it imports (report, sandbox).
runtime_deps=(pydantic pydantic-core annotated-types typing-extensions typing-inspection pyyaml dnspython
              rapidfuzz tree-sitter tree-sitter-javascript)
# The build backends (and their whole closure) installed sdists ask for most; anything else
# an sdist names in build-system.requires is missing in the sandbox, as its dependencies are.
build_backends=(setuptools wheel hatchling hatch-vcs flit-core poetry-core pdm-backend setuptools-scm
                vcs-versioning packaging pathspec pluggy trove-classifiers tomlkit)

normalize() { tr '[:upper:]_.' '[:lower:]--' <<<"$1"; }

pin_of() {
    local wanted line name
    wanted="$(normalize "$1")"
    while IFS= read -r line; do
        name="$(normalize "${line%%==*}")"
        if [[ "$name" == "$wanted" && "$line" == *==* ]]; then
            echo "$wanted==${line#*==}"
            return 0
        fi
    done <"$constraints"
    echo "no pin for $1 in $constraints" >&2
    return 1
}

# name==version of a wheel file (PEP 427: name-version-...).
wheel_pin() {
    local base name version
    base="$(basename "$1")"
    name="${base%%-*}"
    version="${base#*-}"
    echo "$(normalize "$name")==${version%%-*}"
}

mkdir -p "$out/wheels"
rm -rf "$out"/wheels/*.whl "$out/requirements.txt" "$out/backends" "$out/backends.txt"
cp "$dockerfile" "$out/Dockerfile"

abi="cp${target_python/./}"
download=("$python" -m pip download --quiet --only-binary=:all: --dest "$out/wheels"
    --python-version "$target_python" --implementation cp --abi "$abi" --abi abi3 --abi none)
for platform in $target_platform "manylinux2014_$(uname -m)" any; do
    download+=(--platform "$platform")
done

if [[ ${#dists[@]} -eq 0 ]]; then
    "$python" -m pip wheel --quiet --no-deps --wheel-dir "$out/wheels" \
        "$repo/libs/common" "$repo/libs/analyzer"
    pins=()
    for dep in "${runtime_deps[@]}"; do
        pins+=("$(pin_of "$dep")")
    done
    "${download[@]}" --no-deps "${pins[@]}"
    {
        for wheel in "$out"/wheels/packguard_*.whl; do
            wheel_pin "$wheel"
        done
        printf '%s\n' "${pins[@]}"
    } >"$out/requirements.txt"
    mkdir -p "$out/backends"
    backend_pins=()
    for dep in "${build_backends[@]}"; do
        backend_pins+=("$(pin_of "$dep")")
    done
    # A second --dest overrides the first.
    "${download[@]}" --no-deps --dest "$out/backends" "${backend_pins[@]}"
    printf '%s\n' "${backend_pins[@]}" >"$out/backends.txt"
else
    "$python" -m pip wheel --quiet --no-deps --wheel-dir "$out/wheels" \
        "${dists[@]/#/$repo/}"
    extras=()
    for dep in ${EXTRA_REQUIREMENTS:-}; do
        extras+=("$(pin_of "$dep")")
    done
    # pip resolves the closure for the target; our own wheels come from the context.
    "${download[@]}" --find-links "$out/wheels" --constraint "$constraints" \
        "$out"/wheels/packguard_*.whl "${extras[@]}"
    for wheel in "$out"/wheels/*.whl; do
        wheel_pin "$wheel"
    done | sort >"$out/requirements.txt"
fi

echo "context ready in $out:" >&2
ls -1 "$out/wheels" >&2
