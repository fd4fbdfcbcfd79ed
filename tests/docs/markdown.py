"""The fenced code blocks of the project's Markdown documents, as a reader sees them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import REPO_ROOT

DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
SHELL = frozenset({"bash", "sh", "shell", "console"})
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```\n", re.M | re.S)


@dataclass(frozen=True)
class Block:
    document: Path
    line: int
    language: str
    text: str

    @property
    def first_command(self) -> str:
        """The first line that is not a comment or blank: how a block is named in the docs tests."""
        return next((line.strip() for line in self.text.splitlines() if line.strip() and not line.startswith("#")), "")

    def __str__(self) -> str:
        return f"{self.document.relative_to(REPO_ROOT)}:{self.line}"


def blocks(*documents: Path) -> list[Block]:
    found = []
    for document in documents or DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            indent = len(match.group(1))
            body = "\n".join(line[indent:] for line in match.group(3).splitlines()) + "\n"
            found.append(Block(document, text.count("\n", 0, match.start()) + 1, match.group(2), body))
    return found


def shell_blocks() -> list[Block]:
    return [block for block in blocks() if block.language in SHELL]
