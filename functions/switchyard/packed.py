"""JSON kept gzipped in a table item's binary `data` attribute (snapshots, stored dry-run plans).

Both are too large for the execution state and compress some 50 times: a snapshot or plan of
hundreds of listener rules stays far below DynamoDB's 400 KB item limit.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any


def pack(value: Any) -> bytes:
    return gzip.compress(json.dumps(value).encode())


def unpack(item: dict[str, Any]) -> Any:
    """The JSON in an item's `data` attribute, as `pack` wrote it."""
    data = item["data"]["B"]
    if isinstance(data, str):  # some clients hand binary back base64-encoded
        data = base64.b64decode(data)
    return json.loads(gzip.decompress(data))
