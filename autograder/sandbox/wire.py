"""The only format in which a sandboxed child may hand results to the trusted parent.

A message is a flat mapping from string keys to plain numbers, strings, booleans, None, or numeric
numpy arrays. It is encoded as a JSON header (keys, scalar values, array dtypes and shapes) followed
by the arrays' raw bytes. Decoding never runs code (unlike pickle): it checks every dtype against an
allow-list and every byte count against the declared shape, so a child can send wrong numbers but
never objects, and a forged or truncated message is rejected as a whole.

    frame = b"AGW1" + uint64 header length + header JSON + array bytes
"""

from __future__ import annotations

import json
import struct
from typing import Mapping

import numpy as np

MAGIC = b"AGW1"
ALLOWED_DTYPES = {"<f8", "<f4", "<f2", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1"}
MAX_MESSAGE_BYTES = 512 * 1024 * 1024

Scalar = int | float | bool | str | None


class WireError(ValueError):
    """A message that is not a valid frame (corrupt, truncated, forged or too large)."""


def encode(message: Mapping[str, object]) -> bytes:
    """Encodes ``message``; raises TypeError for a value that is not plain data."""
    entries, blobs = [], []
    for key, value in message.items():
        if not isinstance(key, str):
            raise TypeError(f"message keys must be strings, got {type(key).__name__}")
        if isinstance(value, np.ndarray) or isinstance(value, np.generic):
            array = np.asarray(value)
            if not array.flags.c_contiguous:  # (ascontiguousarray would turn 0-d into 1-d)
                array = array.copy(order="C")
            if array.dtype.byteorder == ">":
                array = array.astype(array.dtype.newbyteorder("<"))
            dtype = array.dtype.str
            if dtype not in ALLOWED_DTYPES:
                raise TypeError(f"{key}: arrays of dtype {array.dtype} cannot be sent")
            entries.append({"key": key, "dtype": dtype, "shape": list(array.shape)})
            blobs.append(array.tobytes())
        elif value is None or isinstance(value, (bool, int, float, str)):
            entries.append({"key": key, "value": value})
        else:
            raise TypeError(f"{key}: a {type(value).__name__} cannot be sent, only numbers/arrays")
    header = json.dumps(entries).encode("utf-8")
    return MAGIC + struct.pack("<Q", len(header)) + header + b"".join(blobs)


def decode(frame: bytes) -> dict[str, object]:
    """Decodes a frame made by :func:`encode`; raises :class:`WireError` on anything else."""
    if len(frame) > MAX_MESSAGE_BYTES:
        raise WireError("message too large")
    if len(frame) < 12 or frame[:4] != MAGIC:
        raise WireError("not a result message")
    (header_length,) = struct.unpack("<Q", frame[4:12])
    if 12 + header_length > len(frame):
        raise WireError("truncated header")
    try:
        entries = json.loads(frame[12 : 12 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WireError(f"unreadable header: {error}") from None
    if not isinstance(entries, list):
        raise WireError("header is not a list")
    message: dict[str, object] = {}
    offset = 12 + header_length
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            raise WireError("malformed entry")
        key = entry["key"]
        if "dtype" in entry:
            dtype, shape = entry["dtype"], entry.get("shape")
            if dtype not in ALLOWED_DTYPES:
                raise WireError(f"{key}: dtype {dtype!r} not allowed")
            if not isinstance(shape, list) or not all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
            ):
                raise WireError(f"{key}: malformed shape")
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            nbytes = count * np.dtype(dtype).itemsize
            if offset + nbytes > len(frame):
                raise WireError(f"{key}: truncated array")
            array = np.frombuffer(frame, dtype=dtype, count=count, offset=offset).reshape(tuple(shape))
            message[key] = array.copy()
            offset += nbytes
        else:
            value = entry.get("value")
            if value is not None and not isinstance(value, (bool, int, float, str)):
                raise WireError(f"{key}: malformed value")
            message[key] = value
    if offset != len(frame):
        raise WireError("trailing bytes after the last array")
    return message
