"""The pickle-free wire format between a sandboxed child and the parent."""

import struct

import numpy as np
import pytest

from autograder.sandbox import wire


def test_round_trip_of_arrays_and_scalars():
    message = {
        "a": np.arange(12.0).reshape(3, 4),
        "i": np.array([1, 2], dtype=np.int64),
        "flag": np.array(True),
        "x": 2.5,
        "n": 3,
        "s": "text",
        "none": None,
        "nan": float("nan"),
    }
    decoded = wire.decode(wire.encode(message))
    assert decoded.keys() == message.keys()
    assert np.array_equal(decoded["a"], message["a"]) and decoded["a"].dtype == np.float64
    assert decoded["i"].dtype == np.int64 and decoded["flag"].shape == ()
    assert decoded["x"] == 2.5 and decoded["n"] == 3 and decoded["s"] == "text" and decoded["none"] is None
    assert np.isnan(decoded["nan"])


def test_decoded_arrays_are_writable_copies():
    decoded = wire.decode(wire.encode({"a": np.zeros(3)}))
    decoded["a"][0] = 1.0


@pytest.mark.parametrize("value", [object(), np.array([object()]), [1, 2], {"a": 1}, np.array(["x"])])
def test_objects_cannot_be_sent(value):
    with pytest.raises(TypeError):
        wire.encode({"v": value})


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"not a frame at all",
        wire.MAGIC + struct.pack("<Q", 1000) + b"[]",
        wire.encode({"a": np.zeros(4)})[:-1],
        wire.encode({"a": np.zeros(4)}) + b"extra",
        wire.MAGIC + struct.pack("<Q", 2) + b"{}",
    ],
    ids=["empty", "garbage", "truncated header", "truncated array", "trailing bytes", "not a list"],
)
def test_malformed_frames_are_rejected(frame):
    with pytest.raises(wire.WireError):
        wire.decode(frame)


def test_forged_dtype_is_rejected():
    header = b'[{"key": "a", "dtype": "|O", "shape": [1]}]'
    frame = wire.MAGIC + struct.pack("<Q", len(header)) + header + b"\0" * 8
    with pytest.raises(wire.WireError, match="not allowed"):
        wire.decode(frame)


def test_forged_shape_is_rejected():
    header = b'[{"key": "a", "dtype": "<f8", "shape": [-1]}]'
    frame = wire.MAGIC + struct.pack("<Q", len(header)) + header
    with pytest.raises(wire.WireError, match="malformed shape"):
        wire.decode(frame)
