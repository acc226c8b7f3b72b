"""How results cross from the student's process to the grader's: strict JSON, never pickle.

Unpickling data a submission produced could run its code in the grader, so
results travel as JSON in which only numbers, strings, lists, dicts, numeric
arrays and :class:`~nbbackprop.checks.verdict.Raised` records may appear.
Anything else is refused on the way in.
"""

import base64
import json

import numpy as np

from nbbackprop.checks.verdict import Raised

MAX_MESSAGE = 64 * 2**20  # bytes: a result larger than this is refused, not parsed
_KINDS = "biuf"  # bool, int, unsigned, float arrays only


def _is_raised(value):
    # by name: the student's process re-imports the checks, so its Raised is another class object
    kind = type(value)
    return kind.__name__ == "Raised" and kind.__module__ == "nbbackprop.checks.verdict"


def _encode(value):
    if _is_raised(value):
        trace = [[str(cell), int(line), str(function), str(text)[:300]]
                 for cell, line, function, text in tuple(getattr(value, "trace", ()))[:10]]
        return {"__raised__": [str(value.code), str(value.message), trace]}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _KINDS:
            return {"__raised__": ["exception", f"returned an array of dtype {value.dtype}, expected numbers"]}
        array = np.array(value, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        return {"__array__": [array.dtype.str, list(array.shape), base64.b64encode(array.tobytes()).decode()]}
    if isinstance(value, np.generic):
        return _encode(np.asarray(value))
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[str(k), _encode(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return {"__raised__": ["exception", f"returned a {type(value).__name__}, expected numbers"]}


def encode(value):
    """``value`` (plain results) as bytes."""
    return json.dumps(_encode(value)).encode()


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if len(value) != 1:
            raise ValueError("wire: an object must hold exactly one tag")
        (tag, body), = value.items()
        if tag == "__raised__":
            code, message, *trace = body
            return Raised(str(code), str(message), _trace(trace[0]) if trace else ())
        if tag == "__array__":
            dtype, shape, data = body
            dtype = np.dtype(str(dtype))
            if dtype.kind not in _KINDS or dtype.hasobject:
                raise ValueError(f"wire: refused an array of dtype {dtype}")
            raw = base64.b64decode(data, validate=True)
            return np.frombuffer(raw, dtype=dtype).reshape([int(n) for n in shape]).copy()
        if tag == "__tuple__":
            return tuple(_decode(v) for v in body)
        if tag == "__dict__":
            return {str(k): _decode(v) for k, v in body}
        raise ValueError(f"wire: unknown tag {tag!r}")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"wire: refused a {type(value).__name__}")


def _trace(frames):
    """A Raised's trace: at most ten ``(cell, line, function, text)`` frames of plain strings and a line number."""
    if not isinstance(frames, list) or len(frames) > 10:
        raise ValueError("wire: a trace must be a list of at most 10 frames")
    out = []
    for frame in frames:
        if not (isinstance(frame, list) and len(frame) == 4 and isinstance(frame[1], int)
                and all(isinstance(frame[k], str) for k in (0, 2, 3))):
            raise ValueError("wire: a trace frame must be [cell, line, function, text]")
        out.append(tuple(frame))
    return tuple(out)


def decode(data):
    """Bytes from the student's process back to plain results; raises ``ValueError`` on anything else."""
    if len(data) > MAX_MESSAGE:
        raise ValueError(f"wire: a message of {len(data)} bytes is over the {MAX_MESSAGE}-byte limit")
    return _decode(json.loads(data))
