"""Every command's parser, by its table in the config file (`_config`): what the file is
checked against, what `outstream config` shows and completion is made of."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["all_parsers", "parser_builders"]


def parser_builders() -> dict[str, Callable[[], argparse.ArgumentParser]]:
    """Every command's parser maker, by table name ("": ``outstream [TEXT]``; the commands
    that read no config file, inspect, config and completion, are not here)."""
    from .ask import build_ask_parser
    from .relay import build_cancel_parser, build_follow_parser, build_publish_parser
    from .replay import build_demo_parser, build_replay_parser
    from .serve import build_serve_parser
    from .stream import build_parser

    return {
        "": build_parser,
        "ask": build_ask_parser,
        "replay": build_replay_parser,
        "demo": build_demo_parser,
        "publish": build_publish_parser,
        "follow": build_follow_parser,
        "cancel": build_cancel_parser,
        "serve": build_serve_parser,
    }


def all_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every command's parser that reads the config file, by table name."""
    return {command: build() for command, build in parser_builders().items()}
