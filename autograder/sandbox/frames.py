"""Messages on the pipe between the two processes: length-prefixed frames, both ways.

A frame is a 4-byte length, then a JSON header ``[kind, *fields]``, a newline and an
optional payload: plain results encoded by :mod:`autograder.wire` (strict JSON, never
pickle). The student's process writes with :func:`send`; the grader reads with
:class:`Reader`, every read under a deadline, and opens each frame with :func:`parse`.
"""

import json
import os
import select
import struct
import time

from .. import wire


def send(fd, kind, *fields, payload=None):
    """Write one frame; ``payload`` (plain results, or None for none) travels wire-encoded."""
    body = json.dumps([kind, *fields]).encode() + b"\n" + (b"" if payload is None else wire.encode(payload))
    data = struct.pack("!I", len(body)) + body
    while data:
        data = data[os.write(fd, data):]


def parse(body):
    """A frame's body as ``(header, payload)``: the header decoded, the payload still bytes."""
    head, _, payload = body.partition(b"\n")
    return json.loads(head), payload


def results(payload):
    """The plain results a frame's payload holds; raises ``ValueError`` on anything the wire refuses."""
    return wire.decode(payload)


class Reader:
    """Frames from the student's pipe, each read with a deadline."""

    def __init__(self, fd):
        self.fd, self.buffer = fd, b""

    def read(self, deadline):
        """The next frame's body (bytes, for :func:`parse`). Raises ``TimeoutError`` once ``deadline``
        (``time.monotonic``) passes, ``EOFError`` when the pipe closes, ``ValueError`` on a frame
        larger than :data:`wire.MAX_MESSAGE`."""
        while True:
            if len(self.buffer) >= 4:
                (size,) = struct.unpack("!I", self.buffer[:4])
                if size > wire.MAX_MESSAGE:
                    raise ValueError(f"a message of {size} bytes from the student's process")
                if len(self.buffer) >= 4 + size:
                    body, self.buffer = self.buffer[4:4 + size], self.buffer[4 + size:]
                    return body
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                raise TimeoutError
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                raise EOFError
            self.buffer += chunk
