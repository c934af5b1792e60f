"""The one compiled module, optional: without a C compiler outstream installs
and counts in Python (core/counts.py); with one, --stats counts in C."""

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
