"""System ids: validated as UUIDs, kept only as a keyed hash (docs/design.md, "What is stored")."""

import hashlib
import hmac
import re

from django.conf import settings

# The canonical 8-4-4-4-12 form pulpcore sends (str(uuid)); either case is the same system.
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NIL_UUIDS = {"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"}


def canonical_system_id(system_id: str) -> str | None:
    """The lower-case UUID, or None when system_id is not a usable UUID."""
    value = system_id.lower()
    if not UUID_RE.fullmatch(value) or value in NIL_UUIDS:
        return None
    return value


def hash_system_id(system_id: str) -> str:
    """HMAC-SHA256 (hex) of the canonical id under SYSTEM_ID_KEY; the only form ever stored."""
    canonical = canonical_system_id(system_id) or system_id
    return hmac.new(settings.SYSTEM_ID_KEY.encode(), canonical.encode(), hashlib.sha256).hexdigest()
