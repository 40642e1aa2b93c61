# The image of one packguard service: `--build-arg SERVICE=gateway|scheduler|runner|reporter`.
# One recipe for the four: they differ only in the package they run, so four copies would
# drift apart. Builds offline from the context deploy/images/build-context.sh assembles:
#
#   <context>/Dockerfile         this file
#   <context>/requirements.txt   exact pins of every wheel below
#   <context>/wheels/*.whl       packguard-common, the four services and their dependencies
#   <context>/healthcheck.py     the container health probe
#
# BASE_IMAGE defaults to a public Python image for users; `make images` and the tests pass
# the locally debootstrapped localhost/packguard-base:bookworm. Both stages use the same
# base, so the venv's interpreter path is valid in the final one.
# No "# syntax=" line on purpose: it would make BuildKit pull a frontend image.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ARG SERVICE
COPY requirements.txt /build/requirements.txt
COPY wheels/ /build/wheels/
# --no-index: only the context's wheels; the pins make the resolution exact. The import
# fails the build when the service's closure is incomplete. Not needed at run time:
# setuptools, botocore's models of every AWS service but S3 (27 of its 31 MB), and pip,
# except in the runner, which asks pip for its index when PYPI_INDEX_URL is unset.
RUN test -n "${SERVICE}" || { echo "--build-arg SERVICE=<name> is required" >&2; exit 1; } \
 && python3 -m venv /opt/packguard \
 && /opt/packguard/bin/pip install --no-cache-dir --no-index --find-links /build/wheels \
        --constraint /build/requirements.txt "packguard-${SERVICE}" \
 && /opt/packguard/bin/python -I -c "import packguard.${SERVICE}.__main__" \
 && if [ "${SERVICE}" = runner ]; then unused=setuptools; else unused="pip setuptools"; fi \
 && /opt/packguard/bin/pip uninstall --yes --quiet ${unused} \
 && find /opt/packguard/lib/python3*/site-packages/botocore/data \
        -mindepth 1 -maxdepth 1 -type d ! -name s3 -exec rm -rf {} + \
 && printf '#!/bin/sh\nexec /opt/packguard/bin/python -m packguard.%s "$@"\n' "${SERVICE}" \
        > /opt/packguard/bin/packguard-service \
 && chmod 0755 /opt/packguard/bin/packguard-service

FROM ${BASE_IMAGE}
ARG SERVICE
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="packguard-${SERVICE}" \
      org.opencontainers.image.description="packguard ${SERVICE} service" \
      org.opencontainers.image.version="${VERSION}"
# A fixed numeric uid, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
RUN groupadd --system --gid 10001 packguard \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin packguard
COPY --from=build /opt/packguard /opt/packguard
COPY healthcheck.py /opt/packguard/bin/packguard-healthcheck
# Bytecode was compiled at install time (the root filesystem may be read-only); SAFEPATH
# keeps the working directory off sys.path. A container's loopback is of no use to
# anyone else, so the listeners default to every interface: the gateway's API on PORT,
# the workers' /health/, /ready/ and /metrics on METRICS_PORT (each ignores the other's).
ENV PATH=/opt/packguard/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONSAFEPATH=1 \
    PYTHONUNBUFFERED=1 \
    PACKGUARD_SERVICE=${SERVICE} \
    HOST=0.0.0.0 \
    PORT=8000 \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9100
USER 10001:10001
WORKDIR /
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/opt/packguard/bin/packguard-healthcheck"]
# exec: python is PID 1 and gets SIGTERM itself, which starts the service's drain.
ENTRYPOINT ["/opt/packguard/bin/packguard-service"]
