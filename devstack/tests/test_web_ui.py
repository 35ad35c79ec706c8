from pathlib import Path

from devstack.web_ui import keep_build, source_hash


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


def test_a_kept_build_leaves_the_compiler_cache_out_and_only_the_newest_three_stay(
    tmp_path: Path,
) -> None:
    builds = tmp_path / "ui-builds"
    for number in range(5):
        build = _tree(
            tmp_path / f"next-{number}",
            {"BUILD_ID": str(number), "server/app.js": "x", "cache/webpack/big.pack": "y"},
        )
        keep_build(build, builds / f"sources-{number}")
    assert sorted(path.name for path in builds.iterdir()) == [
        "sources-2",
        "sources-3",
        "sources-4",
    ]
    newest = builds / "sources-4"
    assert (newest / "BUILD_ID").read_text() == "4"
    assert (newest / "server" / "app.js").is_file()
    assert not (newest / "cache").exists()
