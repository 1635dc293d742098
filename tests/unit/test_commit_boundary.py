"""One commit point: services flush, the request's unit of work commits. Only the unit of
work, the idempotency wrapper (which must commit the stored answer with the use case), and
command-line entry points (each command is its own unit of work) may call commit()."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "inventory"
# The scheduler's runs happen outside any request: scheduling/runner.py is their unit of work
# (the lease, then the job with its record), as each command is its own.
MAY_COMMIT = {"unit_of_work.py", "api/idempotency.py", "scheduling/runner.py"}


def _may_commit(path: Path) -> bool:
    relative = path.relative_to(PACKAGE).as_posix()
    return relative in MAY_COMMIT or path.name in {"cli.py", "demo.py"}


def _is_session(node) -> bool:
    return (isinstance(node, ast.Name) and node.id == "session") or (
        isinstance(node, ast.Attribute) and node.attr == "session")


def commits_in(source: str) -> list[int]:
    """Lines that commit a database session (not `ledger.commit`, which commits money)."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
            and _is_session(node.func.value)]


def test_the_check_finds_a_commit_wherever_it_is_written():
    assert commits_in("def view():\n    if ok:\n        db.session.commit()\n") == [3]
    assert commits_in("def view():\n    return session.flush()\n") == []
    assert commits_in("def approve():\n    ledger.commit(100, actor=me)\n") == []


def test_nothing_but_the_unit_of_work_commits():
    offenders = [f"{path.relative_to(PACKAGE)}:{line}" for path in sorted(PACKAGE.rglob("*.py"))
                 if not _may_commit(path) for line in commits_in(path.read_text())]
    assert offenders == []
