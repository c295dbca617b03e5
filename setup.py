"""Packaging stub: metadata, dependencies and entry points live in setup.cfg.

The only thing setup.cfg cannot express is the optional C accelerator for
LZ-String; it is optional, so an install without a compiler still works
(the pure-Python implementation is used instead).
"""
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "livetiming.protocol._lzstring",
            sources=["src/livetiming/protocol/_lzstring.c"],
            optional=True,
        )
    ],
)
