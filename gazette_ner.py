"""The `gazette-ner` console command: one subcommand per pipeline stage.

Each stage package owns its subcommands in its own ``cli.py`` (``register(subparsers)``),
so this dispatcher never grows with the stages.
"""
from __future__ import annotations

import argparse
import importlib
import sys

STAGES = ("corpus.cli", "annotation.cli", "training.cli", "models.cli", "models.benchmark", "models.release",
          "models.serve", "evaluation.cli", "evaluation.tables")
# Command groups whose actions come from more than one stage (each module registers its own actions),
# so an upstream stage never imports a downstream one to offer a shared command.
GROUPS = {
    "ls": ("Label Studio: server, project, push/pull of tasks, active-learning batches",
           ("annotation.labelstudio.cli", "models.active")),
}


def register_modules(subparsers: argparse._SubParsersAction, names: tuple[str, ...]) -> None:
    """Let each named module add its subcommands; a stage not yet built is left out."""
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gazette-ner",
        description="Tag Chinese government gazettes: agencies, dates, indicators, amounts, policies, places.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_modules(commands, STAGES)
    for name, (help_text, modules) in GROUPS.items():
        group = commands.add_parser(name, help=help_text)
        register_modules(group.add_subparsers(dest=f"{name}_command", required=True, metavar="ACTION"), modules)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
