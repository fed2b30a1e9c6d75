"""Finding and parsing timestamps in log lines and fields (generic formats only).

Parsed: ISO 8601 and RFC 3339 (also with a comma before the fraction, as Java/log4j write it),
Common/Combined Log Format (`10/Oct/2026:13:55:36 +0000`), syslog and ctime (`Oct 10 13:55:36`,
`Sun Dec 04 04:47:44 2005`; without a year, the latest year that does not put it in the future),
`2005-06-03-15.42.50.675872`, `2026/10/10 13:55:36`, `081109 203615` (yymmdd hhmmss), and epoch
seconds or milliseconds (numbers, or 10- and 13-digit numbers in text).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_MONTHS = {m: i for i, m in enumerate(_MONTH[3:-1].split("|"), start=1)}
_EPOCH = r"(?<![\w.])[1-3]\d{9}(?:\.\d{1,6})?(?![\w.])|(?<![\w.])[1-3]\d{12}(?![\w.])"
TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"  # ISO 8601, log4j
    r"|\d{2}/" + _MONTH + r"/\d{4}:\d{2}:\d{2}:\d{2}(?: [+-]\d{4})?"  # Common Log Format
    r"|\d{4}-\d{2}-\d{2}-\d{2}\.\d{2}\.\d{2}(?:\.\d+)?"  # 2005-06-03-15.42.50.675872
    r"|(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?" + _MONTH + r" +\d{1,2} \d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?: \d{4})?"
    r"|\d{2,4}[/.]\d{2}[/.]\d{2,4}[ T]\d{2}:\d{2}:\d{2}"  # 17/06/09 20:10:40
    r"|\b\d{6} \d{6}\b"  # 081109 203615
    r"|" + _EPOCH + r"|(?:\b\d{1,4}[./-]\d{1,2}(?:[./-]\d{2,4})? )?\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"  # bare time
)
ISO_8601 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?$")
_CLF = re.compile(r"(\d{2})/(" + _MONTH + r")/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?: ([+-]\d{4}))?$")
_SYSLOG = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?("
    + _MONTH
    + r") +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?: (\d{4}))?$"
)
_DASHED = re.compile(r"(\d{4})-(\d{2})-(\d{2})-(\d{2})\.(\d{2})\.(\d{2})(?:\.(\d+))?$")
_SLASHED = re.compile(r"(\d{4})[/.](\d{2})[/.](\d{2})[ T](\d{2}):(\d{2}):(\d{2})$")
_COMPACT = re.compile(r"(\d{2})(\d{2})(\d{2}) (\d{2})(\d{2})(\d{2})$")
TIME_FIELD = re.compile(r"(?:^|[._@])(?:ts|time|timestamp|date|datetime|created|created_at|updated_at)$", re.I)


def find_timestamp(line: str, within: int = 64) -> str | None:
    """The first timestamp-looking text that starts within the first `within` characters of `line`."""
    match = TIMESTAMP.search(line, 0, within + 40)
    return match.group(0) if match and match.start() < within else None


def _epoch_number(number: float) -> float | None:
    if 1e9 <= number < 1e10:
        return number
    if 1e12 <= number < 1e13:
        return number / 1000.0
    return None


def _offset(zone: str | None) -> float:
    """Seconds east of UTC of `Z`, `+0200` or `-05:00` (0 when absent)."""
    if not zone or zone == "Z":
        return 0.0
    digits = zone[1:].replace(":", "")
    return (1 if zone[0] == "+" else -1) * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)


def _at(year: int, month: int, day: int, hour: int, minute: int, second: int, fraction: str | None) -> float | None:
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    return moment.timestamp() + (float("0." + fraction) if fraction else 0.0)


def _without_year(month: int, day: int, hour: int, minute: int, second: int, fraction: str | None) -> float | None:
    """A syslog time: this year, or the year before when this year's date is more than a day ahead."""
    now = datetime.now(UTC)
    for year in (now.year, now.year - 1):
        stamp = _at(year, month, day, hour, minute, second, fraction)
        if stamp is not None and stamp <= (now + timedelta(days=1)).timestamp():
            return stamp
    return None


def _iso_fast(text: str) -> float | None:
    """ISO 8601 / log4j with a time, through the C parser (most log lines)."""
    if len(text) < 19 or text[4] != "-" or text[10] not in "T ":
        return None
    try:
        moment = datetime.fromisoformat(text.replace(",", ".", 1))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _parse_text(text: str) -> float | None:
    fast = _iso_fast(text)
    if fast is not None:
        return fast
    if match := ISO_8601.match(text):
        y, mo, d, h, mi, s, fraction, zone = match.groups()
        stamp = _at(int(y), int(mo), int(d), int(h), int(mi), int(s), fraction)
        return None if stamp is None else stamp - _offset(zone)
    if match := _CLF.match(text):
        d, mon, y, h, mi, s, zone = match.groups()
        stamp = _at(int(y), _MONTHS[mon], int(d), int(h), int(mi), int(s), None)
        return None if stamp is None else stamp - _offset(zone)
    if match := _SYSLOG.match(text):
        mon, d, h, mi, s, fraction, year = match.groups()
        parts = (_MONTHS[mon], int(d), int(h), int(mi), int(s), fraction)
        return _at(int(year), *parts) if year else _without_year(*parts)
    if match := _DASHED.match(text):
        y, mo, d, h, mi, s, fraction = match.groups()
        return _at(int(y), int(mo), int(d), int(h), int(mi), int(s), fraction)
    if match := _SLASHED.match(text):
        y, mo, d, h, mi, s = (int(g) for g in match.groups())
        return _at(y, mo, d, h, mi, s, None)
    if match := _COMPACT.match(text):
        yy, mo, d, h, mi, s = (int(g) for g in match.groups())
        return _at(2000 + yy, mo, d, h, mi, s, None)
    if text.replace(".", "", 1).isdigit():
        return _epoch_number(float(text))
    return None


def parse_timestamp(value: object) -> float | None:
    """Epoch seconds of a timestamp string in one of the formats above, or of an epoch number (s or ms);
    None when it is not a timestamp."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _epoch_number(float(value))
    if not isinstance(value, str):
        return None
    return _parse_text(value.strip())


def format_epoch(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
