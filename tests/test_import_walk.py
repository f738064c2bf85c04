"""`import DIR` reads only what lies inside DIR, within one budget for the whole batch.

Real folders in ``tmp_path`` with real symlinks; the CLI through click's runner.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikicore.cli import main
from wikicore.store import Wiki

SECRET = "password=hunter2"


def _invoke(wiki: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--wiki", str(wiki), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A wiki, a folder to import with one real article, and a secret beside the folder."""
    wiki = Wiki.init(tmp_path / "wiki").path
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Alpha is a letter. It comes first.\n")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "credentials.txt").write_text(SECRET + "\n")
    return wiki, folder, secret


def _everything(wiki: Path) -> str:
    """Every article the wiki holds, as `show` prints it."""
    code, listed, _ = _invoke(wiki, "list")
    assert code == 0
    return "".join(_invoke(wiki, "show", slug)[1] for slug in listed.split())


def test_a_symlink_out_of_the_folder_is_skipped_and_said(layout: tuple[Path, Path, Path]) -> None:
    wiki, folder, secret = layout
    (folder / "notes.txt").symlink_to(secret / "credentials.txt")
    code, _, err = _invoke(wiki, "import", str(folder))
    assert code == 0, err
    assert SECRET not in _everything(wiki)
    assert "notes.txt" in err and "outside" in err


def test_a_symlinked_folder_out_of_the_folder_is_not_walked(layout: tuple[Path, Path, Path]) -> None:
    wiki, folder, secret = layout
    (folder / "more").symlink_to(secret, target_is_directory=True)
    code, _, err = _invoke(wiki, "import", str(folder))
    assert code == 0, err
    assert SECRET not in _everything(wiki)
    assert "more" in err and "not walked" in err


def test_a_symlink_that_climbs_out_through_dotdot_is_skipped(layout: tuple[Path, Path, Path]) -> None:
    wiki, folder, _ = layout
    (folder / "sub").mkdir()
    (folder / "sub" / "n.txt").symlink_to(Path("..") / ".." / "secret" / "credentials.txt")
    code, _, err = _invoke(wiki, "import", str(folder))
    assert code == 0, err
    assert SECRET not in _everything(wiki)


def test_a_symlink_loop_and_a_dangling_link_are_skipped_not_fatal(layout: tuple[Path, Path, Path]) -> None:
    wiki, folder, _ = layout
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    (folder / "gone.txt").symlink_to(folder / "nowhere.txt")
    code, _, err = _invoke(wiki, "import", str(folder))
    assert code == 0, err
    assert "loop.txt" in err and "gone.txt" in err


def test_a_symlink_inside_the_folder_is_imported(layout: tuple[Path, Path, Path]) -> None:
    wiki, folder, _ = layout
    (folder / ".drafts").mkdir()  # hidden: not walked itself, but inside the folder
    (folder / ".drafts" / "b.txt").write_text("Beta is a letter too. It comes second.\n")
    (folder / "b-link.txt").symlink_to(Path(".drafts") / "b.txt")
    code, _, err = _invoke(wiki, "import", str(folder))
    assert code == 0, err
    assert "Beta is a letter" in _everything(wiki) and "skipped" not in err


def test_a_fifo_in_the_folder_is_skipped_not_read(layout: tuple[Path, Path, Path]) -> None:
    wiki, folder, _ = layout
    os.mkfifo(folder / "pipe.txt")
    code, _, err = _invoke(wiki, "import", str(folder))
    assert code == 0, err
    assert "pipe.txt" in err and "not a regular file" in err


def test_a_folder_over_the_batch_budget_is_refused_before_it_is_all_read(
    layout: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import wikicore.importers.batch as batch

    wiki, folder, _ = layout
    monkeypatch.setattr(batch, "MAX_BATCH_CHARS", 2_000)
    for index in range(5):
        (folder / f"p{index}.txt").write_text(f"Page {index} says something. " * 30 + "\n")  # ~900 characters
    read: list[Path] = []
    real_read = batch.read_text
    monkeypatch.setattr(batch, "read_text", lambda path, **how: read.append(path) or real_read(path, **how))
    code, _, err = _invoke(wiki, "import", str(folder))
    assert code == 2, err
    assert "smaller batches" in err and "Traceback" not in err
    assert len(read) <= 3  # refused as the budget ran out, not after parsing everything
    assert _invoke(wiki, "list")[1] == ""  # all or nothing


# --- what the walk checked is what is read ---------------------------------------------------------


def _swap_after_the_walk(monkeypatch: pytest.MonkeyPatch, swap: Callable[[], None]) -> None:
    """The folder changes between the walk's checks and the reads (the race, made to happen every time)."""
    import wikicore.importers.batch as batch

    real_walk = batch._walk

    def walk_then_swap(folder: Path, known: Iterable[str] | None) -> tuple[list[Path], list[str]]:
        found = real_walk(folder, known)
        swap()
        return found

    monkeypatch.setattr(batch, "_walk", walk_then_swap)


def test_a_file_swapped_for_a_symlink_after_the_walk_is_refused_not_read(
    layout: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    wiki, folder, secret = layout
    (folder / "b.txt").write_text("Beta is a letter too. It comes second.\n")

    def swap() -> None:
        (folder / "b.txt").unlink()
        (folder / "b.txt").symlink_to(secret / "credentials.txt")

    _swap_after_the_walk(monkeypatch, swap)
    code, _, err = _invoke(wiki, "import", str(folder))
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "b.txt" in lines[0] and "symlink" in lines[0] and "Traceback" not in err, err
    assert SECRET not in err
    assert _invoke(wiki, "list")[1] == ""  # all or nothing: the secret is nowhere


def test_a_file_swapped_for_a_fifo_after_the_walk_is_refused_without_waiting(
    layout: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    wiki, folder, _ = layout

    def swap() -> None:
        (folder / "a.txt").unlink()
        os.mkfifo(folder / "a.txt")

    _swap_after_the_walk(monkeypatch, swap)
    code, _, err = _invoke(wiki, "import", str(folder))
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "a.txt" in lines[0] and "regular file" in lines[0], err


def test_the_import_read_follows_no_symlink(layout: tuple[Path, Path, Path]) -> None:
    from wikicore.errors import InvalidArticle
    from wikicore.importers.batch import import_paths

    _, folder, secret = layout
    link = folder / "notes.txt"
    link.symlink_to(secret / "credentials.txt")
    with pytest.raises(InvalidArticle, match="symlink") as caught:
        import_paths([link])
    assert SECRET not in str(caught.value)


def test_a_symlink_named_outright_is_still_imported_in_a_batch(layout: tuple[Path, Path, Path],
                                                              tmp_path: Path) -> None:
    wiki, folder, _ = layout
    (tmp_path / "beta.txt").write_text("Beta is a letter too. It comes second.\n")
    (folder / "beta-link.txt").symlink_to(tmp_path / "beta.txt")
    code, _, err = _invoke(wiki, "import", str(folder / "a.txt"), str(folder / "beta-link.txt"))
    assert code == 0, err
    assert "Beta is a letter" in _everything(wiki)
