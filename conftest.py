"""The documentation runs as shown: pytest collects README.md, CONTRIBUTING.md and docs/*.md through sybil.

What is checked, fence by fence (any other fence, such as ```bash or a plain ```text, is for reading only):

- ```python: runs on its own, in a fresh namespace (so every import and name it uses must be in the block), in an
  empty temporary directory (so files it writes go nowhere). If it prints, the next thing in the page must be
  ``Output:`` and a ```text block holding exactly what it printed.
- ```text after a line ``Output:``: what the python block above it printed.
- ```text after ``<!-- listing: PATH -->``: a listing of source code, which must appear verbatim in PATH.
- ```console whose first line is ``$ python -m tinyreg explain ...``: the rest is what that command prints.

The tests of tables that point into the source (the README's map of equations, the pdb transcript) are in
tests/test_docs.py.
"""

import contextlib
import io
import re
import shlex
from pathlib import Path

from sybil import Sybil
from sybil.parsers.markdown import CodeBlockParser

ROOT = Path(__file__).resolve().parent
OUTPUT = "Output:"
LISTING = re.compile(r"<!-- listing: (\S+) -->\s*$")


def _text_before(example) -> str:
    return example.document.text[:example.start].rstrip()


def _text_after(example) -> str:
    return example.document.text[example.end:].lstrip()


def run_python(example):
    printed = io.StringIO()
    example.namespace["monkeypatch"].chdir(example.namespace["tmp_path"])
    with contextlib.redirect_stdout(printed):
        exec(compile(example.parsed, example.path, "exec"), {"__name__": "__main__"})
    example.namespace["printed"] = printed.getvalue()
    if printed.getvalue() and not _text_after(example).startswith(OUTPUT):
        raise AssertionError(f"the block prints, but no '{OUTPUT}' block follows it; it printed:\n"
                             f"{printed.getvalue()}")


def check_text(example):
    before = _text_before(example)
    if before.endswith(OUTPUT):
        assert "printed" in example.namespace, f"'{OUTPUT}' without a python block before it"
        assert example.parsed == example.namespace.pop("printed"), "the output shown is not what the block prints"
    else:
        path = LISTING.search(before).group(1)
        assert example.parsed in (ROOT / path).read_text(encoding="utf-8"), f"the listing is not verbatim in {path}"


def check_console(example):
    from tinyreg.__main__ import main

    command, _, shown = example.parsed.partition("\n")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(shlex.split(command)[4:]) == 0      # the arguments after "$ python -m tinyreg"
    assert printed.getvalue() == shown


class CheckedTextParser(CodeBlockParser):
    """```text blocks that show output or a listing; the others are prose and are left alone."""

    def __call__(self, document):
        for region in super().__call__(document):
            before = document.text[:region.start].rstrip()
            if before.endswith(OUTPUT) or LISTING.search(before):
                yield region


class ExplainConsoleParser(CodeBlockParser):
    """```console transcripts of ``python -m tinyreg explain``."""

    def __call__(self, document):
        for region in super().__call__(document):
            if region.parsed.startswith("$ python -m tinyreg explain"):
                yield region


pytest_collect_file = Sybil(
    parsers=[CodeBlockParser("python", run_python), CheckedTextParser("text", check_text),
             ExplainConsoleParser("console", check_console)],
    patterns=["README.md", "CONTRIBUTING.md", "docs/*.md"],
    excludes=["benchmarks/*"],
    fixtures=["tmp_path", "monkeypatch"],
).pytest()
