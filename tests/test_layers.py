"""The apps' layers are enforced: `lint-imports` (pyproject.toml [tool.importlinter])
passes on this tree and fails as soon as a lower app imports a higher one."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [
    "config",
    "marketplace",
    "catalog",
    "messaging",
    "orders",
    "payments",
    "refunds",
    "downloads",
    "moderation",
    "analytics",
    "accounts",
]
LAYERS_CONTRACT = "Apps form layers: a lower app never imports a higher one"
SAME_LEVEL_CONTRACT = "Apps at the same level do not know each other"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    # The CLI puts its working directory first on sys.path, so it analyses the tree there.
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; "
            "sys.exit(lint_imports_command())",
            "--no-cache",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_source(to: Path) -> Path:
    """The apps' Python files and pyproject.toml, nothing else."""

    def not_python(folder: str, names: list[str]) -> list[str]:
        return [
            n
            for n in names
            if n == "__pycache__" or (not n.endswith(".py") and not Path(folder, n).is_dir())
        ]

    for package in PACKAGES:
        shutil.copytree(ROOT / package, to / package, ignore=not_python)
    shutil.copy(ROOT / "pyproject.toml", to / "pyproject.toml")
    return to


def test_the_real_tree_keeps_every_import_contract():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{LAYERS_CONTRACT} KEPT" in result.stdout
    assert f"{SAME_LEVEL_CONTRACT} KEPT" in result.stdout


@pytest.mark.parametrize(
    ("path", "source", "contract"),
    [
        # at import time
        ("catalog/_backedge.py", "import analytics\n", LAYERS_CONTRACT),
        # inside a function counts too
        ("marketplace/_backedge.py", "def f():\n    from orders import models\n", LAYERS_CONTRACT),
        ("orders/_backedge.py", "def f():\n    import payments.selectors\n", LAYERS_CONTRACT),
        ("downloads/_backedge.py", "import refunds.models\n", SAME_LEVEL_CONTRACT),
    ],
)
def test_a_back_edge_breaks_the_build(tmp_path, path, source, contract):
    # given: a copy of the source with one forbidden import added
    tree = _copy_source(tmp_path / "src")
    (tree / path).write_text(source)
    # when
    result = _lint_imports(tree)
    # then
    assert result.returncode != 0, result.stdout
    assert f"{contract} BROKEN" in result.stdout
    assert path.removesuffix(".py").replace("/", ".") in result.stdout
