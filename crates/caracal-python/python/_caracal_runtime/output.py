"""What detections print: sent to the process's stderr (stdout is the report's), and
capped, so that one printing in a loop cannot flood the log or the terminal."""

import io
import sys
from contextlib import contextmanager, redirect_stderr, redirect_stdout

# Characters detections may print per engine call (a batch, or one detection's tests).
LIMIT = 64 * 1024


class CappedOutput(io.TextIOBase):
    """A text stream that passes the first `limit` characters on to `target` and
    counts the rest in `dropped`."""

    def __init__(self, target, limit=LIMIT):
        super().__init__()
        self.target = target
        self.limit = limit
        self.left = limit
        self.dropped = 0

    @property
    def encoding(self):
        return getattr(self.target, "encoding", "utf-8")

    def writable(self):
        return True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        n = len(text)
        if n <= self.left:
            self.left -= n
            self.target.write(text)
        else:
            if self.left:
                self.target.write(text[: self.left])
            self.dropped += n - self.left
            self.left = 0
        return n

    def flush(self):
        self.target.flush()

    def note(self):
        """Writes, when output was dropped, a line saying how much."""
        if self.dropped:
            self.target.write(
                f"\n[caracal] detection output truncated: {self.dropped} more characters "
                f"dropped (at most {self.limit} per call)\n"
            )
        self.target.flush()


@contextmanager
def capped(limit=LIMIT):
    """Sends what detections print (stdout and stderr) to stderr, at most `limit`
    characters, then a note of what was dropped."""
    out = CappedOutput(sys.stderr, limit)
    try:
        with redirect_stdout(out), redirect_stderr(out):
            yield out
    finally:
        out.note()
