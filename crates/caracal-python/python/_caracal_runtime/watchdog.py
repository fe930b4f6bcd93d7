"""The time limit of detection calls: the Python half of the watchdog protocol.

Every thread that runs detection code has a slot: [progress mark (0: idle), time limit
in seconds]. The mark changes with every detection call, at no clock read: either a new
sequence number per call (`guarded`, `arm`), or, in the batch loops, the iterator over
one item's detections (stored once per item; each call advances it). The Rust watchdog
thread (src/interp.rs) calls `overdue()` with the GIL held every tick while some engine
call is running, and raises `DetectionTimeout` asynchronously in every thread it returns.
"""

import operator
import threading
import time

_monotonic = time.monotonic
_get_ident = threading.get_ident
length_hint = operator.length_hint

_slots = {}  # thread id -> [progress mark (0: idle), time limit in seconds]
_seen = {}  # thread id -> [progress, first seen (monotonic), interrupts] (watchdog only)
_limit = [5.0]

# The last sequence number handed out; the batch loops advance it themselves (one store
# per call) and write it back when they end.
sequence = [0]

# Where this process shows its progress to a supervisor that reads it without the GIL
# (src/worker/): [item of the batch, detection index (precise mode), call sequence]. A
# plain list in-process; in a worker process, a memoryview over a page the parent
# process reads. The batch loops store the item index once per item; `guarded` stores
# the sequence number of each call it times.
PROGRESS_ITEM, PROGRESS_DETECTION, PROGRESS_CALL = 0, 1, 2
published = [[0, -1, 0]]


def set_progress(view):
    """Publishes progress into `view` (a sequence of three integers) from now on."""
    published[0] = view


class DetectionTimeout(BaseException):
    """Raised inside a detection that ran past its time limit."""


def set_time_limit(seconds):
    """Sets the time limit of the calling thread's detection calls (engines differ)."""
    slot()[1] = float(seconds)


def slot():
    """This thread's call slot, [mark, time limit] (see the module doc)."""
    tid = _get_ident()
    found = _slots.get(tid)
    if found is None:
        found = _slots[tid] = [0, _limit[0]]
    return found


def _progress(mark):
    """What changes from one call to the next: the sequence number, or the iterator and
    how many detections it has left (the watchdog holds the iterator, so its identity
    is never reused while compared)."""
    if type(mark) is int:
        return mark
    return (mark, length_hint(mark))


def overdue():
    """[(thread id, times interrupted)] for every thread whose current call is too long."""
    now = _monotonic()
    late = []
    for tid, (mark, limit) in list(_slots.items()):
        seen = _seen.get(tid)
        if mark == 0:  # idle (an iterator never equals 0)
            _seen.pop(tid, None)
            continue
        progress = _progress(mark)
        if seen is None or seen[0] != progress:
            _seen[tid] = [progress, now, 0]
        elif now - seen[1] > limit:
            seen[2] += 1
            # Fire again in 100 ms if the detection swallows the exception and goes on.
            seen[1] = now - limit + 0.1
            late.append((tid, seen[2]))
    return late


def guarded(fn, arg):
    """`fn(arg)` timed as one detection call."""
    current = slot()
    outer = current[0]
    sequence[0] += 1
    current[0] = sequence[0]
    published[0][PROGRESS_CALL] = sequence[0]
    try:
        return fn(arg)
    finally:
        current[0] = outer


def arm():
    """Marks this thread as running detection code on behalf of Rust (reading alert
    contexts calls their `__str__` / `items()`), so the watchdog times it like a
    detection call. Returns what `disarm` restores."""
    current = slot()
    outer = current[0]
    sequence[0] += 1
    current[0] = sequence[0]
    published[0][PROGRESS_CALL] = sequence[0]
    return outer


def disarm(outer):
    """Ends what `arm` began."""
    slot()[0] = outer


def describe(exc):
    """`Type: message` of an exception raised by detection code."""
    if isinstance(exc, DetectionTimeout):
        return f"DetectionTimeout: ran longer than the {slot()[1]:g} s time limit"
    return f"{type(exc).__name__}: {exc}"
