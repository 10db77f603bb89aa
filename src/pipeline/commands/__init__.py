"""Extra subcommands, one module each, found and registered by ``pipeline.cli``.

A module here defines ``register(commands, defaults)``: it adds its parser to the
``argparse`` subparsers and sets ``handler`` (``args -> exit code``) with ``set_defaults``.
Keeping each command in its own module keeps ``cli.py`` short.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def modules() -> list[ModuleType]:
    """Every command module, in name order (so ``--help`` lists them the same each time)."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.ispkg)
    return [importlib.import_module(f"{__name__}.{name}") for name in names]
