"""Every ``ptce …`` command line of the README, as written, is one the real command accepts.

The lines are read from the README itself: the first cell of its command tables, the inline
``ptce …`` spans of its prose and the ``ptce`` lines of its ``sh`` blocks. Each is read as a
usage synopsis (``[…]`` optional, ``a|b`` alternatives, ``X…`` repeated, ``--opt …`` a value,
upper-case words and ``dossier-N`` placeholders) and parsed by the real typer application's
click parser, without running anything: once with every optional part left out (so a required
option missing from the README fails, as it would for the admin who copies the line) and once
per alternative with every optional part in (so an option the README shows must exist and
take the value shown). ``--as`` is given by ``PTCE_ADMIN``, as the README's administration
section says.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup, TyperOption

from api.cli.main import app
from bench.run import parse as bench_parse

README = Path(__file__).resolve().parents[2] / "README.md"
ROOT = typer.main.get_command(app)
# A sample value for each placeholder the README uses.
SAMPLES = {"N": "1001", "REGION": "53", "R": "53", "DATE": "2027-01-15", "STAGE": "instruction",
           "S": "instruction", "MEMBRE": "m-53-ess", "ID": "1", "FICHIERS": "history.json",
           "REQUÊTE": "DossierStage = 'instruction'", "dossier-N": "dossier-1001",
           "VERSION": "build-42", "BUILD_ID": "build-42"}
VALUE = "une raison suffisante"  # what `…` stands for after an option


def _tokens(line: str) -> list[str]:
    """Whitespace-separated, double quotes kept together, brackets as tokens of their own."""
    out: list[str] = []
    for quoted, word in re.findall(r'"([^"]*)"|(\S+)', line.replace("\\|", "|")):
        if quoted:
            out.append(f'"{quoted}"')
            continue
        while word.startswith("["):
            out.append("[")
            word = word[1:]
        tail: list[str] = []
        while word.endswith(("]", "]…")):
            tail.insert(0, "]…" if word.endswith("]…") else "]")
            word = word[: -len(tail[0])]
        if word:
            out.append(word)
        out += tail
    return out


def _alternatives(tokens: list[str]) -> list[list[str]]:
    """Top-level ``A | B`` (spaced) into separate synopses."""
    parts = [list(g) for sep, g in itertools.groupby(tokens, lambda t: t == "|") if not sep]
    return parts or [tokens]


def _value(token: str) -> list[str]:
    """Each concrete word a synopsis token stands for (``a|b`` gives both)."""
    if token.startswith('"') and token.endswith('"'):
        inner = token[1:-1]
        return [SAMPLES.get(inner, inner)]
    repeated = token.endswith("…") and token != "…"
    word = token[:-1] if repeated else token
    if word == "…":
        return [VALUE]
    return [SAMPLES.get(choice, choice) for choice in word.split("|")]


def _expand(tokens: list[str], optional: bool) -> Iterator[list[str]]:
    """Concrete argument lists: optional groups in or out, one per combination of choices."""
    kept: list[list[str]] = []
    depth = 0
    for token in tokens:
        if token == "[":
            depth += 1
            continue
        if token in ("]", "]…"):
            depth -= 1
            continue
        if depth and not optional:
            continue
        kept.append(_value(token) if token != "…" else [VALUE])
    for combination in itertools.product(*kept):
        yield list(combination)


def _command_lines() -> list[tuple[str, bool]]:
    """(line, strict): table cells and sh lines are strict; prose spans that are bare command
    names or elliptic (``ptce admin …``) only name a command."""
    text = README.read_text()
    lines: list[tuple[str, bool]] = []
    for row in re.findall(r"^\|\s*`((?:\.venv/bin/)?ptce [^`]+)`", text, flags=re.M):
        lines.append((row, True))
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for raw in block.splitlines():
            line = raw.split("  #")[0].strip()
            command = re.match(r"(?:[A-Z_]+=\S+ )*((?:\.venv/bin/)?ptce .*)", line)
            if command:  # an environment set for it first (PTCE_ENVIRONMENT=dev …) is left out
                lines.append((command.group(1), True))
    for span in re.findall(r"(?<!\| )`((?:\.venv/bin/)?ptce [^`]+)`", text):
        if (span, True) not in lines:
            lines.append((span, False))
    return lines


def _resolve(words: list[str]) -> tuple[Any, list[str], list[str]]:
    """The command named by the leading words, its path, and the remaining words."""
    command: Any = ROOT
    path: list[str] = []
    while isinstance(command, TyperGroup) and words and words[0] in command.commands:
        path.append(words[0])
        command = command.commands[words[0]]
        words = words[1:]
    return command, path, words


LINES = _command_lines()


def test_the_readme_shows_the_commands_it_is_about() -> None:
    assert len(LINES) >= 20
    shown = {" ".join(_resolve(_tokens(line.removeprefix(".venv/bin/"))[1:])[1])
             for line, _ in LINES}
    assert {"admin reset", "admin resume", "admin stuck", "temporal setup", "db upgrade",
            "platform check", "worker", "api", "dev"} <= shown


@pytest.mark.parametrize(("line", "strict"), LINES, ids=[line for line, _ in LINES])
def test_every_readme_command_line_parses_as_written(
        line: str, strict: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTCE_ADMIN", "chef.bureau@finances.gouv.fr")
    tokens = _tokens(line.removeprefix(".venv/bin/"))
    assert tokens[0] == "ptce"
    command, path, rest = _resolve(tokens[1:])
    assert path, f"{line!r}: no such command"
    if not strict and (not rest or rest[0] == "…"):
        return  # a reference to the command (or its group: `ptce admin …`) in a sentence
    assert not isinstance(command, TyperGroup), f"{line!r} names a group, not a command"
    for synopsis in _alternatives(rest):
        for optional in (False, True):
            for args in _expand(synopsis, optional):
                if path == ["bench"]:  # its options are its own argparse parser's
                    bench_parse(args)
                    continue
                try:
                    command.make_context(" ".join(["ptce", *path]), list(args))
                except Exception as exc:  # typer's click: a usage error, or --help's exit
                    shown = exc.format_message() if hasattr(exc, "format_message") else repr(exc)
                    pytest.fail(f"{line!r} as {args}: {shown}")


@pytest.mark.parametrize("path", [["admin", name] for name in ("reset", "resume", "skip",
                                                                "withdraw", "resend",
                                                                "retry-activity")])
def test_a_required_option_left_out_is_refused_by_the_parser(path: list[str]) -> None:
    """Not vacuous: without ``--reason`` these commands refuse to parse, so a README line
    missing it fails the test above."""
    command, _, _ = _resolve(path)
    required = {p.opts[0] for p in command.params
                if isinstance(p, TyperOption) and p.required and not p.envvar}
    assert "--reason" in required
