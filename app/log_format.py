"""One JSON object per log line, for Django's logs (LOGGING) and gunicorn's (gunicorn.conf.py).

A log collector reads stdout line by line: a record, its traceback included, must stay on one line.
"""

import ipaddress
import json
import logging
import re
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
}

# Candidates only: ipaddress decides which is an address (a time such as 12:30:45 is not).
_IPV4_RE = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")
# Bounded repeats from a token's start: linear time even on a 4 KB request line of hex digits.
_IPV6_RE = re.compile(
    r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,8}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])"
)
# The arbiter's lines naming the addresses it listens on: no client address is in them, and
# tests/live_server.py reads the port from them.
_LISTENING_MESSAGES = frozenset({"Listening at: %s (%s)", "Listening at: %s"})
HIDDEN_ADDRESS = "[address]"


def _hidden(match: re.Match) -> str:
    try:
        ipaddress.ip_address(match.group(0))
    except ValueError:
        return match.group(0)
    return HIDDEN_ADDRESS


def hide_addresses(text: str) -> str:
    """`text` with every IPv4 and IPv6 address replaced by HIDDEN_ADDRESS."""
    return _IPV6_RE.sub(_hidden, _IPV4_RE.sub(_hidden, text))


class JsonLineFormatter(logging.Formatter):
    """time (UTC, ms), level, logger, process, message, extras, and the traceback if any.

    With `hide_addresses` (gunicorn's logs: gunicorn.conf.py), IP addresses in the message and
    the traceback are replaced, except in the arbiter's lines naming its listening sockets: gunicorn
    names a client's address in a few error lines (`Invalid request from ip=...`), and the site
    keeps no client address, in its logs either.
    """

    def __init__(self, *args: object, hide_addresses: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.hide_addresses = hide_addresses

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        if self.hide_addresses and record.msg not in _LISTENING_MESSAGES:
            for key in ("message", "exception", "stack"):
                if key in entry:
                    entry[key] = hide_addresses(entry[key])
        # default=str: extras such as Django's `request` are objects; their repr is enough.
        return json.dumps(entry, default=str)
