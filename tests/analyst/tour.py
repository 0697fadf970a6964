"""Read the README's analyst tour: the ```sh blocks between '## A five-minute tour' and '## Benchmarks'.

A command is one line, or several joined by a trailing backslash; what follows an unquoted '#' is its
comment, and lines that hold only a comment continue the previous command's comment. What the tour
promises about a command is read from its comment: 'refuses'/'refused' means it must fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

START, END = "## A five-minute tour", "## Benchmarks"


@dataclass
class Step:
    command: str
    comment: str
    line: int          # README line number of the command's first line

    @property
    def must_fail(self) -> bool:
        return re.search(r"\brefuse[sd]?\b", self.comment) is not None


def split_comment(line: str) -> tuple[str, str]:
    """Code and comment of a shell line (a '#' inside quotes or a word is not a comment)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


def tour_steps(readme: Path) -> list[Step]:
    text = readme.read_text(encoding="utf-8")
    lines = text.splitlines()
    begin = next(i for i, l in enumerate(lines) if l.startswith(START))
    end = next(i for i, l in enumerate(lines) if l.startswith(END) and i > begin)
    steps: list[Step] = []
    in_block, pending = False, None
    for n in range(begin, end):
        raw = lines[n]
        if raw.strip().startswith("```"):
            in_block = raw.strip() == "```sh" if not in_block else False
            continue
        if not in_block or not raw.strip():
            continue
        code, comment = split_comment(raw)
        if not code.strip():                       # a comment line continues the last command's comment
            if steps:
                steps[-1].comment += " " + comment
            continue
        if pending is not None:                    # continuation of a backslash line
            pending.command += " " + code.strip().rstrip("\\").strip()
            pending.comment = (pending.comment + " " + comment).strip()
        else:
            pending = Step(code.strip().rstrip("\\").strip(), comment, n + 1)
            steps.append(pending)
        if not code.rstrip().endswith("\\"):
            pending = None
    return steps
