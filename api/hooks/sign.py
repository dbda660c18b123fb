"""Sign a webhook body as Shopify and WooCommerce do, for trying the hooks with curl:

    python -m api.hooks.sign SECRET FILE     # prints the base64 HMAC-SHA256 of FILE's bytes

Send the file's bytes unchanged (curl --data-binary @FILE): the signature is of
the raw body, so a reformatted body no longer matches.
"""

from __future__ import annotations

import sys
from pathlib import Path

from api.hooks.signing import body_signature


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m api.hooks.sign SECRET FILE", file=sys.stderr)
        return 2
    secret, path = argv
    try:
        body = Path(path).read_bytes()
    except OSError as error:
        print(f"cannot read {path}: {error}", file=sys.stderr)
        return 1
    print(body_signature(secret=secret, body=body))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
