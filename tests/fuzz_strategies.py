"""Fuzz inputs for Telemetry bodies (docs/reliability.md A1, A2).

Hypothesis draws valid messages from the descriptor (so it can shrink a failing one); a seeded
`random.Random` it also draws applies the mutation catalogue: bit flips, truncation at every
offset, splicing, corrupted length prefixes, nesting depth 1-10,000, unknown fields and groups,
invalid UTF-8, field number 0, wire types 6 and 7. Plain-Python mutations cost microseconds where
a Hypothesis draw costs about a millisecond, which is what lets tier 1 try 20,000 inputs in
seconds.
"""

import functools
import random

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import strategies as st

from pulpanalytics.telemetry_pb2 import Telemetry
from tests.helpers import tag, varint

UINT32 = st.integers(min_value=0, max_value=2**32 - 1)
PLUGIN_NAMES = ["core", "rpm", "file", "container", "ansible", "python", "deb", "certguard"]


# Mostly real UUIDs (v4 either case, any version), sometimes any text.
SYSTEM_IDS = st.one_of(
    st.uuids(version=4).map(str),
    st.uuids(version=4).map(lambda value: str(value).upper()),
    st.uuids().map(str),
    st.text(max_size=40),
)
GA_VERSIONS = st.tuples(*[st.integers(0, 99)] * 3).map(lambda parts: ".".join(map(str, parts)))


def _field_values(field: FieldDescriptor) -> st.SearchStrategy:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return message_dicts(field.message_type)
    if field.type == FieldDescriptor.TYPE_UINT32:
        return UINT32
    if field.name == "system_id":
        return SYSTEM_IDS
    if field.name == "name":
        return st.one_of(st.sampled_from(PLUGIN_NAMES), st.text(max_size=12))
    if field.name == "version":
        return st.one_of(GA_VERSIONS, st.text(max_size=12))
    return st.text(max_size=20)


@functools.cache
def message_dicts(descriptor: Descriptor) -> st.SearchStrategy[dict]:
    """Field values for one message of `descriptor`: required fields always, the rest by chance.

    Built once per descriptor: a new field in telemetry.proto is fuzzed without a change here.
    """
    required, optional = {}, {}
    for field in descriptor.fields:
        strategy = _field_values(field)
        if field.is_repeated:
            optional[field.name] = st.lists(strategy, max_size=6)
        elif field.is_required:
            required[field.name] = strategy
        else:
            optional[field.name] = strategy
    return st.fixed_dictionaries(required, optional=optional)


def _fill(message: object, values: dict) -> None:
    for name, value in values.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                getattr(message, name).extend(value)
            else:
                setattr(message, name, value)
        elif field.is_repeated:
            for item in value:
                _fill(getattr(message, name).add(), item)
        else:
            nested = getattr(message, name)
            nested.SetInParent()
            _fill(nested, value)


def telemetry_bodies() -> st.SearchStrategy[bytes]:
    """Serialized Telemetry messages built from the descriptor (required fields always set)."""

    def serialize(values: dict) -> bytes:
        report = Telemetry()
        _fill(report, values)
        return report.SerializePartialToString()

    return message_dicts(Telemetry.DESCRIPTOR).map(serialize)


def _length_prefix_offsets(body: bytes) -> list[tuple[int, int]]:
    """(start, end) of each top-level length prefix, found by walking the wire format."""
    offsets, position = [], 0
    while position < len(body):
        key, position = _read_varint(body, position)
        if key is None:
            break
        wire_type = key & 7
        if wire_type == 0:
            _, position = _read_varint(body, position)
        elif wire_type == 1:
            position += 8
        elif wire_type == 5:
            position += 4
        elif wire_type == 2:
            start = position
            length, position = _read_varint(body, position)
            if length is None:
                break
            offsets.append((start, position))
            position += length
        else:
            break
        if position is None:
            break
    return offsets


def _read_varint(body: bytes, position: int) -> tuple[int | None, int | None]:
    value, shift = 0, 0
    while position < len(body) and shift < 70:
        byte = body[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position
    return None, None


INVALID_UTF8 = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xf4\x90\x80\x80", b"\x80"]


def truncations(body: bytes) -> list[bytes]:
    """The body cut at every offset (the empty body included)."""
    return [body[:offset] for offset in range(len(body))]


def bit_flips(body: bytes) -> list[bytes]:
    """The body with each single bit flipped in turn."""
    flipped = []
    for position in range(len(body)):
        for bit in range(8):
            changed = bytearray(body)
            changed[position] ^= 1 << bit
            flipped.append(bytes(changed))
    return flipped


def random_bytes(rng: random.Random) -> bytes:
    """Uniform random bytes, mostly short, sometimes up to 4 KB."""
    size = rng.choice([rng.randint(0, 16), rng.randint(0, 256), rng.randint(0, 4096)])
    return rng.randbytes(size)


def mutate(body: bytes, other: bytes, rng: random.Random) -> bytes:
    """One to three mutations from the A1 catalogue; `other` is a second valid body to splice."""
    for _ in range(rng.randint(1, 3)):
        body = MUTATIONS[rng.randrange(len(MUTATIONS))](body, other, rng)
    return body


def _bit_flip(body: bytes, other: bytes, rng: random.Random) -> bytes:
    if not body:
        return body
    position = rng.randrange(len(body))
    return (
        body[:position] + bytes([body[position] ^ (1 << rng.randrange(8))]) + body[position + 1 :]
    )


def _truncate(body: bytes, other: bytes, rng: random.Random) -> bytes:
    return body[: rng.randint(0, len(body))]


def _splice(body: bytes, other: bytes, rng: random.Random) -> bytes:
    return body[: rng.randint(0, len(body))] + other[rng.randint(0, len(other)) :]


def _length_prefix(body: bytes, other: bytes, rng: random.Random) -> bytes:
    offsets = _length_prefix_offsets(body)
    if not offsets:
        return body
    start, end = rng.choice(offsets)
    length = rng.choice([rng.randint(0, 300), rng.randint(0, 2**64 - 1)])
    prefix = rng.choice([varint(length), b"\xff" * 10, b"\x80" * 11])
    return body[:start] + prefix + body[end:]


def _insert(body: bytes, other: bytes, rng: random.Random) -> bytes:
    position = rng.randint(0, len(body))
    return body[:position] + rng.randbytes(rng.randint(1, 16)) + body[position:]


def _nesting(body: bytes, other: bytes, rng: random.Random) -> bytes:
    depth = rng.choice([rng.randint(1, 120), rng.randint(1, 10_000)])
    field = rng.choice([2, 3, 4, 6, 7, 1000])
    if rng.random() < 0.5:
        # Groups (wire types 3 and 4), closed or left open.
        closing = tag(field, 4) * depth if rng.random() < 0.5 else b""
        return body + tag(field, 3) * depth + closing
    # Length-delimited messages inside one another: prefixes from the innermost out, then
    # joined outermost first (concatenating as we go would copy quadratically).
    prefixes, inner = [], 0
    for _ in range(depth):
        prefix = tag(field, 2) + varint(inner)
        prefixes.append(prefix)
        inner += len(prefix)
    return body + b"".join(reversed(prefixes))


def _unknown_field(body: bytes, other: bytes, rng: random.Random) -> bytes:
    field = rng.randint(7, 2**29 - 1)
    wire_type = rng.choice([0, 1, 2, 5])
    if wire_type == 0:
        payload = varint(rng.randint(0, 2**64 - 1))
    elif wire_type == 1:
        payload = rng.randbytes(8)
    elif wire_type == 5:
        payload = rng.randbytes(4)
    else:
        data = rng.randbytes(rng.randint(0, 32))
        payload = varint(len(data)) + data
    return body + tag(field, wire_type) + payload


def _invalid_utf8(body: bytes, other: bytes, rng: random.Random) -> bytes:
    bad = rng.choice(INVALID_UTF8)
    if rng.random() < 0.5:
        return body + tag(1, 2) + varint(len(bad)) + bad  # system_id (the last one wins)
    component = tag(1, 2) + varint(len(bad)) + bad + tag(2, 2) + b"\x051.2.3"
    return body + tag(4, 2) + varint(len(component)) + component


def _field_zero(body: bytes, other: bytes, rng: random.Random) -> bytes:
    return rng.choice([b"\x00", b"\x02\x00", b"\x05\x00\x00\x00\x00"]) + body


def _wire_type_6_or_7(body: bytes, other: bytes, rng: random.Random) -> bytes:
    return body + tag(rng.randint(1, 20), rng.choice([6, 7])) + b"\x00"


def _repeat(body: bytes, other: bytes, rng: random.Random) -> bytes:
    return body + rng.choice([body, other])


MUTATIONS = [
    _bit_flip,
    _truncate,
    _splice,
    _length_prefix,
    _insert,
    _nesting,
    _unknown_field,
    _invalid_utf8,
    _field_zero,
    _wire_type_6_or_7,
    _repeat,
]
