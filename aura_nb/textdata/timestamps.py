"""Finding and parsing timestamps in log lines and fields (generic formats only)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"  # ISO 8601
    r"|\d{4}-\d{2}-\d{2}-\d{2}\.\d{2}\.\d{2}(?:\.\d+)?"  # 2005-06-03-15.42.50.675872
    r"|(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?" + _MONTH + r" +\d{1,2} \d{2}:\d{2}:\d{2}(?: \d{4})?"  # syslog, ctime
    r"|\d{2,4}[/.]\d{2}[/.]\d{2,4}[ T]\d{2}:\d{2}:\d{2}"  # 17/06/09 20:10:40
    r"|\b\d{6} \d{6}\b"  # 081109 203615
    r"|(?:\b\d{1,4}[./-]\d{1,2}(?:[./-]\d{2,4})? )?\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"  # [10.30 16:49:06], bare time
)
ISO_8601 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?$")
TIME_FIELD = re.compile(r"(?:^|[._@])(?:ts|time|timestamp|date|datetime|created|created_at|updated_at)$", re.I)


def find_timestamp(line: str, within: int = 64) -> str | None:
    """The first timestamp-looking text that starts within the first `within` characters of `line`."""
    match = TIMESTAMP.search(line, 0, within + 40)
    return match.group(0) if match and match.start() < within else None


def parse_timestamp(value: object) -> float | None:
    """Epoch seconds of an ISO-8601 string or an epoch number (s or ms); None when not a timestamp."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        if 1e9 <= number < 1e10:
            return number
        if 1e12 <= number < 1e13:
            return number / 1000.0
        return None
    if not isinstance(value, str):
        return None
    match = ISO_8601.match(value.strip())
    if match is None:
        try:
            return parse_timestamp(float(value)) if value.strip().replace(".", "", 1).isdigit() else None
        except ValueError:
            return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except ValueError:
        return None
    epoch = moment.timestamp() + (float("0." + fraction) if fraction else 0.0)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        epoch -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return epoch


def format_epoch(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
