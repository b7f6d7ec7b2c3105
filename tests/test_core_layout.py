"""The C core's files depend on one another without a cycle: each external
function is defined in one file, and following "file A calls a function of
file B" never leads back to A.  (A cycle makes two files one unit that only
reads as two, which issue 20 set out to end.)"""

from __future__ import annotations

import re
from pathlib import Path

SOURCES = Path(__file__).resolve().parent.parent / "asyncfile" / "core" / "src"

#: A function defined at file level without `static`: its name.
DEFINITION = re.compile(r"^(?!static\b)[A-Za-z_][\w \*]*\n([a-z_]\w*)\(", re.M)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def external_functions() -> dict[str, str]:
    """Each external function's name -> the file that defines it."""
    owner: dict[str, str] = {}
    for source in sorted(SOURCES.glob("*.c")):
        text = COMMENT.sub("", source.read_text())
        for name in DEFINITION.findall(text):
            # One file may define a function twice, on either side of an #if.
            assert owner.setdefault(name, source.name) == source.name, (
                f"{name} defined in {owner[name]} and {source.name}"
            )
    return owner


def dependencies() -> dict[str, set[str]]:
    owner = external_functions()
    graph: dict[str, set[str]] = {}
    for source in sorted(SOURCES.glob("*.c")):
        text = COMMENT.sub("", source.read_text())
        called = set(re.findall(r"\b([a-z_]\w*)\s*\(", text))
        graph[source.name] = {owner[name] for name in called if name in owner} - {
            source.name
        }
    return graph


def cycle_through(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as the files along it, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for after in sorted(graph.get(node, ())):
            found = visit(after, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for node in sorted(graph):
        found = visit(node, [])
        if found:
            return found
    return None


def test_the_core_finds_its_functions() -> None:
    owner = external_functions()
    assert owner["context_start"] == "submission.c"
    assert owner["call_new_fs"] == "call.c"
    assert owner["fs_perform"] == "fsops.c"
    assert "fsops.c" in dependencies()["request.c"]


def test_no_two_files_of_the_core_depend_on_each_other() -> None:
    assert cycle_through(dependencies()) is None


def test_a_cycle_would_be_found() -> None:
    graph = {"a.c": {"b.c"}, "b.c": {"c.c"}, "c.c": {"a.c"}, "d.c": set()}
    assert cycle_through(graph) == ["a.c", "b.c", "c.c", "a.c"]
