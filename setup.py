"""The one compiled module, optional: with a C compiler, --stats counts and the
pipe path scans for controls in C (core/_speedups.c); without one, outstream
installs all the same and does both in Python (core/counts.py, escapes.py)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "outstream.core._speedups",
            ["src/outstream/core/_speedups.c"],
            optional=True,
        )
    ]
)
