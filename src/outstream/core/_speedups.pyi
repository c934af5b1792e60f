# The compiled halves of counts.py and escapes.py (_speedups.c), built where a C compiler is.

START_STATE: int
UNKNOWN: int
GCB_VALUES: tuple[str, ...]

def count(text: str, table: bytearray, state: int, start: int, /) -> tuple[int, int, int, int]: ...
def clean_utf8(data: bytes | bytearray, /) -> bool: ...
