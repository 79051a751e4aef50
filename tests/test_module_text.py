"""Text made when a module is imported is made once, in whatever language is active then:
module-level and class-level text must be lazy (`gettext_lazy`), translated when shown."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("communities", "engagement", "improvement", "members", "config")
EAGER = {"gettext", "ngettext", "pgettext", "npgettext"}


def _eager_names(tree: ast.Module) -> set[str]:
    """The names this module binds to Django's translating-now functions."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            names |= {alias.asname or alias.name for alias in node.names if alias.name in EAGER}
    return names


def _run_at_import(body):
    """The nodes evaluated when the module is imported: module and class bodies, not the
    bodies of functions or lambdas."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from node.decorator_list
            yield from node.args.defaults
            continue
        if isinstance(node, ast.ClassDef):
            yield from node.decorator_list
            yield from _run_at_import(node.body)
            continue
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            yield current
            stack.extend(ast.iter_child_nodes(current))


def eager_text(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = _eager_names(tree)
    return [
        f"{path.relative_to(root)}:{node.lineno}"
        for node in _run_at_import(tree.body)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names
    ]


def test_no_text_is_translated_at_import():
    found = [
        place
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
        for place in eager_text(path)
    ]
    assert found == []


def test_the_check_finds_text_translated_at_import(tmp_path):
    module = tmp_path / "words.py"
    module.write_text(
        "from django.utils.translation import gettext as _\n"
        "from django.utils.translation import gettext_lazy\n"
        "LATER = gettext_lazy('fine')\n"
        "NOW = {'a': _('too soon')}\n"
        "class Kind:\n"
        "    label = _('also too soon')\n"
        "    def name(self):\n"
        "        return _('fine, at run time')\n"
        "WORDS = {'b': lambda: _('fine, at run time')}\n"
    )
    assert eager_text(module, root=tmp_path) == ["words.py:4", "words.py:6"]
