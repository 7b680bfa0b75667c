#!/usr/bin/env python3
"""Tiny HTTP client run INSIDE the test namespace: ``ns_http.py METHOD URL [JSON-BODY|null]``.

Prints one JSON object ``{"status": int|null, "body": <parsed JSON or text>}`` on stdout; a connection
error gives ``status: null`` and the error text as body. Standard library only. Refuses non-loopback hosts.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: ns_http.py METHOD URL [JSON]", file=sys.stderr)
        return 2
    method, url = argv[0].upper(), argv[1]
    if urllib.parse.urlsplit(url).hostname not in LOOPBACK:
        print(f"refusing non-loopback URL {url}", file=sys.stderr)
        return 2
    body = json.loads(argv[2]) if len(argv) > 2 else None
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        print(json.dumps({"status": None, "body": f"{type(exc).__name__}: {exc}"}))
        return 0
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        parsed = text
    print(json.dumps({"status": status, "body": parsed}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
