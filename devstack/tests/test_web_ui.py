from pathlib import Path

from devstack.web_ui import source_hash


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_ui_is_rebuilt_when_a_source_changes_and_only_then(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"app/page.tsx": "one", "package-lock.json": "{}"})
    built = source_hash(root)
    _tree(root, {"node_modules/next/x.js": "a", ".next/BUILD_ID": "b", "test-results/s.png": "c"})
    assert source_hash(root) == built
    _tree(root, {"app/page.tsx": "two"})
    assert source_hash(root) != built
    _tree(root, {"app/page.tsx": "one", "app/new.tsx": ""})
    assert source_hash(root) != built
