#!/usr/bin/env bash
# Assemble the offline build context of the analyzer image into DIR.
#
#   libs/analyzer/image/build-context.sh DIR
#   docker build --network none -t localhost/packguard-analyzer:0.1.0 DIR
#
# Local distributions are built with `pip wheel --no-deps`; runtime dependencies are
# downloaded as binary wheels only (never an sdist: building one runs its code), pinned
# from constraints.txt, for the image's interpreter and platform. The package index is
# whatever pip is configured to use; nothing here names one.
#
# Environment: PYTHON (pip to use; default the repo's .venv), CONSTRAINTS (default
# <repo>/constraints.txt), TARGET_PYTHON (default 3.11, Debian bookworm's),
# TARGET_PLATFORM (default manylinux_2_17_<uname -m>; bookworm has glibc 2.36).
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
out="$1"
python="${PYTHON:-$repo/.venv/bin/python}"
constraints="${CONSTRAINTS:-$repo/constraints.txt}"
target_python="${TARGET_PYTHON:-3.11}"
target_platform="${TARGET_PLATFORM:-manylinux_2_17_$(uname -m)}"
# Runtime dependencies of packguard-analyzer and of the pydantic-only parts of
# packguard-common it imports (report, sandbox).
runtime_deps=(pydantic pydantic-core annotated-types typing-extensions typing-inspection pyyaml)

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

mkdir -p "$out/wheels"
rm -f "$out"/wheels/*.whl "$out/requirements.txt"
cp "$here/Dockerfile" "$out/Dockerfile"

"$python" -m pip wheel --quiet --no-deps --wheel-dir "$out/wheels" \
    "$repo/libs/common" "$repo/libs/analyzer"

pins=()
for dep in "${runtime_deps[@]}"; do
    pins+=("$(pin_of "$dep")")
done
abi="cp${target_python/./}"
"$python" -m pip download --quiet --no-deps --only-binary=:all: --dest "$out/wheels" \
    --python-version "$target_python" --implementation cp --abi "$abi" --abi abi3 --abi none \
    --platform "$target_platform" --platform "manylinux2014_$(uname -m)" --platform any \
    "${pins[@]}"

{
    for wheel in "$out"/wheels/packguard_*.whl; do
        base="$(basename "$wheel")"
        name="${base%%-*}"
        version="${base#*-}"
        echo "$(normalize "$name")==${version%%-*}"
    done
    printf '%s\n' "${pins[@]}"
} >"$out/requirements.txt"

echo "context ready in $out:" >&2
ls -1 "$out/wheels" >&2
