"""The documentation points at the right places: the README's map of equations names the file and line that hold
each statement, the pdb transcript's line numbers are the statements it shows, every page is reachable from the
README and every relative link resolves. (The code blocks themselves run through sybil: see conftest.py.)"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]


def map_rows():
    """``(path, line, code)`` of every row of the README's map: | equation | `path:line` | `code` |."""
    section = README[README.index("## Where each equation lives"):]
    section = section[:section.index("\n## ")]
    rows = re.findall(r"^\|[^|]+\| `([\w/]+\.py):(\d+)` \| `(.+)` \|$", section, flags=re.M)
    return [pytest.param(path, int(line), code, id=f"{path}:{line}") for path, line, code in rows]


def test_the_map_has_every_line_of_algorithm_2():
    paths = [param.values[0] for param in map_rows()]
    assert len(paths) >= 15 and sum(path.startswith("tinyreg/optim/") for path in paths) >= 10


@pytest.mark.parametrize("path,line,code", map_rows())
def test_each_map_row_names_the_line_that_holds_its_code(path, line, code):
    source = (ROOT / path).read_text(encoding="utf-8").splitlines()
    assert source[line - 1].strip().startswith(code), \
        f"{path}:{line} is {source[line - 1].strip()!r}; the README's map says {code!r}"


def test_pdb_transcript_points_at_the_lines_it_shows():
    """``adam.py(N)func()`` is followed by ``-> statement``: line N of adam.py must be that statement, inside
    ``func``; ``Breakpoint 1 at ...adam.py:N`` after ``b adam.func`` must be the line of ``def func(``
    (where pdb puts a function breakpoint)."""
    text = (ROOT / "docs" / "trace.md").read_text(encoding="utf-8")
    (transcript,) = re.findall(r"^```text\n(\$ python -m pdb.*?)^```$", text, flags=re.S | re.M)
    transcript = transcript.splitlines()
    source = (ROOT / "tinyreg" / "optim" / "adam.py").read_text(encoding="utf-8").splitlines()

    def function_at(number):
        return next(line for line in reversed(source[:number]) if line.startswith("def ")).split("(")[0][4:]

    checked = 0
    for i, line in enumerate(transcript):
        for number in re.findall(r"adam\.py:(\d+)", line):
            (function,) = re.findall(r"\(Pdb\) b adam\.(\w+)", transcript[i - 1])
            assert source[int(number) - 1].startswith(f"def {function}("), f"{line!r}: line {number} is not its def"
            checked += 1
        for number, function in re.findall(r"adam\.py\((\d+)\)(\w+)\(\)", line):
            shown = transcript[i + 1]
            assert shown.startswith("-> "), f"{line!r} is not followed by the statement pdb shows"
            assert source[int(number) - 1].strip() == shown[3:].strip(), \
                f"adam.py line {number} is {source[int(number) - 1].strip()!r}, the page shows {shown[3:]!r}"
            assert function_at(int(number)) == function, f"line {number} is not in {function}()"
            checked += 1
    assert checked == 3


def test_readme_is_short():
    assert len(README) <= 15_000


def relative_links(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
        if not re.match(r"\w+:", target):  # not http:, https:, mailto:
            yield (page.parent / target).resolve()


def test_every_docs_page_is_linked_from_the_readme():
    linked = set(relative_links(ROOT / "README.md"))
    assert [page.name for page in (ROOT / "docs").glob("*.md") if page.resolve() not in linked] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_relative_links_resolve(page):
    missing = [target for target in relative_links(page) if not target.exists()]
    assert missing == []


def test_no_absolute_path_of_a_machine_in_the_docs():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"(?<![\w.~])/(?:work|home|root|Users|tmp)/", text), page.name
