"""Every option and positional of every subcommand has help text, and every subcommand's --help ends with an
example that the parser accepts (a new option without help, or a stale example, fails here)."""

from __future__ import annotations

import argparse
import shlex

import pytest

from conftest import run_cli
from ipvkg.cli import parser


def subcommands() -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


SUBCOMMANDS = subcommands()


def examples(sp: argparse.ArgumentParser) -> list[list[str]]:
    """The command lines under ``Example:`` at the end of a subcommand's help, as argument lists."""
    text = sp.format_help().rstrip()
    assert "\nExample:\n" in text, f"`{sp.prog} --help` does not end with an Example:"
    block = text.rsplit("\nExample:\n", 1)[1]
    return [shlex.split(line) for line in block.splitlines() if line.strip()]


def test_there_are_subcommands_to_check():
    assert {"build", "validate", "query", "explain", "docs"} <= set(SUBCOMMANDS)


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_argument_has_help(name):
    sp = SUBCOMMANDS[name]
    missing = [a.dest if not a.option_strings else a.option_strings[-1] for a in sp._actions
               if not isinstance(a, argparse._HelpAction) and not (a.help and a.help.strip())]
    assert missing == [], f"ipvkg {name}: no help text for {', '.join(missing)}"


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_help_ends_with_an_example_the_parser_accepts(name):
    lines = examples(SUBCOMMANDS[name])
    assert lines
    for argv in lines:
        assert argv[:2] == ["ipvkg", name], f"ipvkg {name}: the example {shlex.join(argv)} is for another command"
        args = parser().parse_args(argv[1:])  # exits (SystemExit) on an option the command does not have
        assert args.command == name


def test_top_level_help_names_every_subcommand():
    text = parser().format_help()
    assert all(name in text for name in SUBCOMMANDS)


def test_examples_run(tmp_path):
    """Two of the examples, run as a user would: a record file checked alone, and the explain by key."""
    validate = examples(SUBCOMMANDS["validate"])[0]
    done = run_cli(*validate[1:])
    assert done.returncode == 0 and "1 valid studies; 0 error(s)" in done.stdout, done.stdout + done.stderr
    explain = examples(SUBCOMMANDS["explain"])[0]
    done = run_cli(*explain[1:])
    assert done.returncode == 0 and done.stdout.startswith("tiwari2005 / "), done.stdout + done.stderr
