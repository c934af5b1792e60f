"""The bounds of pacing, apart so that the command line checks them without importing a pacer.

Beyond them, times stop being distinct floats (a unit due every 1e-20 s on a
clock near 1e5 s is due at the same time forever) or overflow: a rate this
high is `Instant()`, a lag this long no pacing anyone waits for.
"""

__all__ = ["MAX_CPS", "MAX_LAG"]

MAX_CPS = 1e6  # units a second (a Typewriter's cps; 1 / its least delay)
MAX_LAG = 3600.0  # seconds (a Smooth's lag)
