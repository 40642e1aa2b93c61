#!/opt/packguard/bin/python
"""`packguard-healthcheck`: exit 0 when the service in this container is ready.

The container health probe of the service images (docker-compose). The gateway answers
/ready/ on PORT; the workers on METRICS_PORT, which must then be set (0 turns the
listener off). Standard library only: it runs in every service image.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping

TIMEOUT_SECONDS = 3.0


def probe_url(environ: Mapping[str, str]) -> str | None:
    """The readiness URL of this container's service, or None when it serves none."""
    if environ.get("PACKGUARD_SERVICE") == "gateway":
        port = environ.get("PORT", "8000")
    else:
        port = environ.get("METRICS_PORT", "0")
    if not port.isdigit() or int(port) == 0:
        return None
    return f"http://127.0.0.1:{int(port)}/ready/"


def main() -> int:
    url = probe_url(os.environ)
    if url is None:
        print("no health listener: set METRICS_PORT", file=sys.stderr)
        return 1
    # No proxies: the probe targets this container's loopback only.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=TIMEOUT_SECONDS) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
