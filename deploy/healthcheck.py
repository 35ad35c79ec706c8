"""Exit 0 when a URL answers 2xx within a few seconds, else 1: a container health check.

The slim Python image has no curl or wget; the standard library is enough and adds nothing
to the image. Usage: `python /app/healthcheck.py http://127.0.0.1:8000/auth/api/ready/`.
"""

import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].startswith("http://"):
        print("usage: healthcheck.py http://HOST:PORT/PATH", file=sys.stderr)
        return 2
    try:
        with urllib.request.urlopen(argv[1], timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (http:// checked above)
            return 0 if 200 <= response.status < 300 else 1
    except (urllib.error.URLError, OSError) as error:
        # The reason lands in `docker inspect`'s health log, which is where people look.
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
