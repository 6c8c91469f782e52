"""The code's shape: imports run one way, and no module grows past what a reader
takes in at once."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("check_imports", ROOT / "scripts/check_imports.py")
check_imports = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_imports)


def test_imports_run_one_way(capsys):
    assert check_imports.main() == 0, capsys.readouterr().out


def test_the_checker_finds_a_circle_and_an_import_hidden_in_a_function(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert check_imports.circles(graph) == [["a", "b", "c"]]
    source = tmp_path / "deliveries" / "x.py"
    source.parent.mkdir()
    source.write_text("def f():\n    from . import y\n")
    (tmp_path / "deliveries" / "y.py").write_text("")
    check_imports.ROOT = tmp_path
    try:
        found, hidden = check_imports.imports_of(source, {"deliveries.x", "deliveries.y"})
    finally:
        check_imports.ROOT = ROOT
    assert found == set()
    assert hidden == ["deliveries/x.py:2 in f()"]


def test_no_module_of_the_app_passes_500_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "deliveries").rglob("*.py")
        if "migrations" not in path.parts and (n := len(path.read_text().splitlines())) > 500
    }
    assert not long, f"split these by feature: {long}"


COUNTERS = "file_count|files_to_purge|files_removed_through|files_processed|files_failed"


def test_the_request_counters_change_only_in_their_module():
    import re

    # An assignment to an instance's counter, or a counter set in update(...)/create(...).
    writes = re.compile(rf"\.({COUNTERS})\s*[-+]?=[^=]|\b({COUNTERS})=")
    writers = {
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "deliveries").rglob("*.py")
        if "migrations" not in path.parts and path.name != "counters.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if writes.search(line)
    }
    assert not writers, f"change counters through deliveries/requests/counters.py: {writers}"


def test_the_icon_every_page_asks_for_is_there(client):
    # The admin's pages carry no <link rel="icon">: browsers ask /favicon.ico.
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301
    icon = client.get(answer["Location"])
    assert icon.status_code == 200 and b"<svg" in b"".join(icon.streaming_content)
