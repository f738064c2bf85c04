"""Deterministic dumps, exact round trips, and refusal of hostile files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wikicore import yamlwriter
from wikicore.cli import main
from wikicore.errors import InvalidArticle
from wikicore.models import Article
from wikicore.serialize import MAX_BYTES, dumps, load_path, loads

from .conftest import SEED_ARTICLE

_CONTROLS = [chr(c) for c in range(0x20) if chr(c) not in "\t\n"]
_CONTROLS += [chr(c) for c in range(0x7F, 0xA0) if c != 0x85]
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters=_CONTROLS), max_size=40)
ODD = st.sampled_from(
    ["\x85", "\u2028", "\u2029", "🎉", "日本語。", "עברית", " ", "\n", "no", "1995", "- x", "#", "'", '"']
)


@st.composite
def articles(draw: st.DrawFn) -> Article:
    texts = st.lists(st.one_of(TEXT, ODD, st.builds(lambda a, b: a + b, ODD, TEXT)), min_size=1, max_size=4)
    claims = [{"text": t} for t in draw(texts)]
    refs = [{"id": f"r{i}", "title": t, "raw": t} for i, t in enumerate(draw(texts))]
    return Article.model_validate(
        {
            "slug": "a",
            "title": draw(TEXT.filter(bool)),
            "lead": [{"claims": claims}],
            "sections": [{"heading": draw(TEXT), "paragraphs": [{"claims": [{"text": draw(TEXT)}]}]}],
            "references": refs,
            "see_also": draw(st.lists(TEXT, max_size=2)),
        }
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(articles())
def test_round_trip_yaml_and_json(article: Article) -> None:
    text = dumps(article)
    assert loads(text) == article
    assert dumps(loads(text)) == text  # same model, same bytes
    assert loads(dumps(article, "json"), "json") == article


EXAMPLES = ["NEL\x85end", "LS\u2028PS\u2029", "emoji 🎉🏳️‍🌈", "日本語。", "עברית ومرحبا", "trailing ", " lead",
            "multi\nline\n\n", "\n", "on", "2016-09-29", "null", "~", "0x10", "1e3", "&a *b", "a: b"]


@pytest.mark.parametrize("text", EXAMPLES)
def test_round_trip_examples(text: str) -> None:
    article = Article.model_validate({"slug": "a", "title": text or "t", "lead": [{"claims": [{"text": text}]}]})
    assert loads(dumps(article)) == article


def test_seed_article_round_trips_byte_exact() -> None:
    raw = SEED_ARTICLE.read_text(encoding="utf-8")
    assert dumps(loads(raw)) == raw


def test_yaml11_words_stay_strings() -> None:
    article = loads("slug: a\ntitle: no\naliases: [on, yes, 2016-09-29]\n")
    assert article.title == "no" and article.aliases == ["on", "yes", "2016-09-29"]


def test_numbers_in_string_fields_become_strings() -> None:
    article = loads("slug: a\ntitle: t\nreferences:\n- id: r1\n  pages: 69\n  date: 1995\n")
    assert article.references[0].pages == "69" and article.references[0].date == "1995"


HOSTILE = {
    "alias-bomb": "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
    "duplicate-keys": "slug: a\ntitle: t\nslug: b\n",
    "python-object": "slug: a\ntitle: !!python/object/apply:os.system ['echo pwned']\n",
    "deep-nesting": "slug: a\ntitle: " + "[" * 5000 + "]" * 5000 + "\n",
    "unknown-field": "slug: a\ntitle: t\nreferences:\n- id: r1\n  titel: x\n",
    "dangling-citation": "slug: a\ntitle: t\nlead:\n- claims:\n  - text: x\n    citations:\n    - ref: nope\n",
    "not-a-mapping": "- a\n- b\n",
    "bad-yaml": "slug: a\ntitle: [unclosed\n",
}
EXPECTED = {
    "alias-bomb": ":1: anchors are not allowed",
    "duplicate-keys": ":3: duplicate key 'slug' (first at line 1)",
    "python-object": ":2: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
    "deep-nesting": "nesting deeper than 64 levels",
    "unknown-field": ":5: references[0].titel: unknown field; did you mean 'title'?",
    "dangling-citation": ":7: lead[0].claims[0].citations[0].ref: names no reference 'nope'",
    "not-a-mapping": ":1: an article must be a mapping of fields",
    "bad-yaml": ":3: while parsing a flow sequence",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_yaml_gives_exit_2_and_one_clear_line(name: str, tmp_path: Path, runner: object) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HOSTILE[name], encoding="utf-8")
    result = runner.invoke(main, ["validate", str(path)])  # type: ignore[attr-defined]
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {path}")
    assert EXPECTED[name] in lines[0]
    assert "Traceback" not in result.output


def _bytes_read_by_this_thread() -> int:
    """``rchar`` of /proc/thread-self/io: every byte this thread's read() calls returned.

    Counted by the kernel per thread, so neither load nor the server threads of other
    tests can move it; CliRunner runs the command in the calling thread.
    """
    io = Path("/proc/thread-self/io")
    if not io.exists():
        pytest.skip("needs Linux's per-thread I/O counters")
    fields = dict(line.split(": ") for line in io.read_text(encoding="ascii").splitlines())
    return int(fields["rchar"])


def test_huge_file_refused_before_reading(tmp_path: Path, runner: object) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    before = _bytes_read_by_this_thread()
    result = runner.invoke(main, ["validate", str(path)])  # type: ignore[attr-defined]
    read = _bytes_read_by_this_thread() - before
    assert result.exit_code == 2
    assert f"the limit is {MAX_BYTES:,}" in result.stderr
    # Refused on its size, before reading: what the command read at all (modules it imports
    # on first use included) is far below the limit. Reading the file, even only up to the
    # limit, would cost MAX_BYTES or more.
    assert read < MAX_BYTES // 4, f"{read:,} bytes read"


def test_invalid_utf8_names_byte_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"slug: a\ntitle: caf\xe9\n")
    with pytest.raises(InvalidArticle) as info:
        load_path(path)
    assert str(info.value) == f"{path}:2: invalid UTF-8 at byte 18 (b'\\xe9')"


def test_many_problems_are_cut_at_20(tmp_path: Path) -> None:
    refs = "".join(f"- id: r{i}\n  bogus{i}: x\n" for i in range(30))
    path = tmp_path / "many.yaml"
    path.write_text(f"slug: a\ntitle: t\nreferences:\n{refs}", encoding="utf-8")
    with pytest.raises(InvalidArticle) as info:
        load_path(path)
    lines = info.value.lines()
    assert len(lines) == 21 and lines[-1] == "and 10 more"


def test_json_duplicates_and_depth(tmp_path: Path) -> None:
    dup = tmp_path / "dup.json"
    dup.write_text('{"slug": "a", "title": "t", "slug": "b"}', encoding="utf-8")
    with pytest.raises(InvalidArticle, match="duplicate key 'slug'"):
        load_path(dup)
    deep = tmp_path / "deep.json"
    deep.write_text('{"slug": "a", "title": ' + "[" * 100000 + "]" * 100000 + "}", encoding="utf-8")
    with pytest.raises(InvalidArticle, match="nesting deeper"):
        load_path(deep)
    assert json.loads(dumps(loads("slug: a\ntitle: t\n"), "json"))["$schema"] == "../schemas/article.schema.json"


@pytest.mark.parametrize("loader", __import__("wikicore.serialize").serialize._LOADERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", ["alias-bomb", "duplicate-keys", "python-object", "deep-nesting", "unknown-field"])
def test_both_yaml_loaders_refuse_hostile_input(
    loader: type, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libyaml scans when present; the pure-Python loader must refuse the same things."""
    import wikicore.serialize as serialize

    monkeypatch.setattr(serialize, "_LOADERS", [loader])
    with pytest.raises(InvalidArticle) as info:
        loads(HOSTILE[name], source="f.yaml")
    assert EXPECTED[name].removeprefix(":") in str(info.value)


@pytest.mark.parametrize("loader", __import__("wikicore.serialize").serialize._LOADERS, ids=lambda c: c.__name__)
def test_both_yaml_loaders_agree_on_the_seed(loader: type, monkeypatch: pytest.MonkeyPatch) -> None:
    import wikicore.serialize as serialize

    monkeypatch.setattr(serialize, "_LOADERS", [loader])
    raw = SEED_ARTICLE.read_text(encoding="utf-8")
    assert dumps(loads(raw)) == raw


@pytest.mark.skipif(len(__import__("wikicore.serialize").serialize._DUMPERS) < 2, reason="PyYAML without libyaml")
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(articles())
def test_dumps_writes_the_python_emitters_bytes(article: Article) -> None:
    """Stored files must not depend on whether PyYAML was built with libyaml."""
    import yaml

    import wikicore.serialize as serialize

    python = yaml.dump(
        serialize.to_data(article), Dumper=serialize._Dumper, allow_unicode=True, sort_keys=False,
        default_flow_style=False, width=1_000_000, indent=2,
    )
    assert dumps(article) == python


# --- untrusted YAML: every explicit tag, NaN, huge numbers; both event sources alike ------------

REFUSED_YAML = {
    "binary-tag": ("slug: a\ntitle: !!binary aGk=\n", ":2: tag 'tag:yaml.org,2002:binary' is not allowed"),
    "str-tag": ("slug: a\ntitle: !!str 12\n", ":2: tag 'tag:yaml.org,2002:str' is not allowed"),
    "set-tag": ("slug: a\ntitle: t\naliases: !!set {b, a}\n", ":3: tag 'tag:yaml.org,2002:set' is not allowed"),
    "bare-tag": ("slug: a\ntitle: ! t\n", ":2: tag '!' is not allowed"),
    "local-tag": ("slug: a\ntitle: t\nlead: !thing []\n", ":3: tag '!thing' is not allowed"),
    "anchor-only": ("slug: a\ntitle: &t t\n", ":2: anchors are not allowed"),
    "alias": ("slug: a\ntitle: t\naliases: [*x]\n", ":3: "),  # libyaml: undefined alias; ours: refused
    "huge-int": ("slug: a\ntitle: " + "7" * 5000 + "\n", ":2: a number of 5,000 digits is too long"),
    "two-documents": ("slug: a\ntitle: t\n---\nslug: b\n", ":3: expected a single document"),
    "collection-key": ("slug: a\n[x]: t\n", ":2: mapping keys must be plain strings"),
    "too-deep-mapping": ("slug: a\ntitle: t\nx:\n" + "".join(" " * i + "k:\n" for i in range(1, 70)),
                         ":66: nesting deeper than 64 levels"),
}


@pytest.mark.parametrize("loader", __import__("wikicore.serialize").serialize._LOADERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", sorted(REFUSED_YAML))
def test_yaml_refusals_name_the_line(loader: type, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import wikicore.serialize as serialize

    monkeypatch.setattr(serialize, "_LOADERS", [loader])
    text, expected = REFUSED_YAML[name]
    with pytest.raises(InvalidArticle) as info:
        loads(text, source="f.yaml")
    assert str(info.value).startswith("f.yaml" + expected), str(info.value)


def test_huge_int_title_is_one_line_from_the_cli(tmp_path: Path, runner: object) -> None:
    for suffix, text in ((".yaml", "slug: a\ntitle: " + "9" * 5000 + "\n"),
                         (".json", '{"slug": "a", "title": ' + "9" * 5000 + "}")):
        path = tmp_path / f"big{suffix}"
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(main, ["validate", str(path)])  # type: ignore[attr-defined]
        assert result.exit_code == 2
        assert result.stderr.strip().splitlines() == [result.stderr.strip()]
        assert "5,000 digits is too long" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_and_infinity_refused(constant: str) -> None:
    with pytest.raises(InvalidArticle, match=f"{constant} is not allowed"):
        loads('{"slug": "a", "title": ' + constant + "}", "json", source="f.json")


def test_only_plain_decimal_integers_are_numbers() -> None:
    """YAML 1.1's octal (``0123``), hex and sexagesimal forms stay the text the user wrote."""
    article = loads("slug: a\ntitle: t\nreferences:\n- id: r1\n  pages: 0123\n  volume: 0x10\n  issue: 1:30\n"
                    "- id: r2\n  pages: -0\n  volume: +12\n  issue: 1_000\n")
    first, second = article.references
    assert (first.pages, first.volume, first.issue) == ("0123", "0x10", "1:30")
    assert (second.pages, second.volume, second.issue) == ("0", "12", "1_000")


def test_the_longest_allowed_number_loads() -> None:
    from wikicore.serialize import MAX_INT_DIGITS

    article = loads("slug: a\ntitle: " + "9" * MAX_INT_DIGITS + "\n")
    assert article.title == "9" * MAX_INT_DIGITS


def test_yaml_loaders_build_the_same_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lean event loop gives what ``yaml.safe_load`` gives on plain YAML (minus its 1.1 guesses)."""
    import yaml

    import wikicore.serialize as serialize

    text = SEED_ARTICLE.read_text(encoding="utf-8")
    expected = yaml.safe_load(text)
    for loader in serialize._LOADERS:
        assert serialize._build(loader(text)) == expected
    flow = "a: {b: [1, -2, +3, true, ~, null, '', 'x'], c: {}}\nd: []\ne: |\n  two\n  lines\n"
    for loader in serialize._LOADERS:
        assert serialize._build(loader(flow)) == yaml.safe_load(flow)


def test_ids_are_still_minted_when_one_is_missing() -> None:
    """The no-copy shortcut for stored articles must not skip minting for a single id-less claim."""
    data = {"slug": "a", "title": "t", "sections": [{"id": "s1", "heading": "H", "sections": [
        {"id": "s2", "heading": "Sub", "paragraphs": [{"claims": [{"id": "c1", "text": "x"}, {"text": "y"}]}]}]}]}
    article = Article.model_validate(data)
    first, second = (c.id for c in article.claims())
    assert first == "c1" and second.startswith("c-")
    assert "id" not in data["sections"][0]["sections"][0]["paragraphs"][0]["claims"][1]  # caller's dict untouched


# --- one capped reader for every file we parse, whatever its type (a FIFO or /dev/zero too) ------


def test_dev_zero_is_capped_by_bytes_read(runner: object) -> None:
    result = runner.invoke(main, ["validate", "/dev/zero"])  # type: ignore[attr-defined]
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: /dev/zero: input is over {MAX_BYTES:,} bytes; the limit is {MAX_BYTES:,}"


def test_a_fifo_without_a_writer_does_not_block(tmp_path: Path, runner: object) -> None:
    import os

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    result = runner.invoke(main, ["validate", str(fifo)])  # type: ignore[attr-defined]
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {fifo}: nothing to read (a pipe or device that gave no bytes)"
    imported = runner.invoke(main, ["convert", str(fifo)])  # type: ignore[attr-defined]
    assert imported.exit_code == 2 and "nothing to read" in imported.stderr


def test_a_fifo_with_a_silent_writer_is_given_up_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import wikicore.serialize as serialize

    monkeypatch.setattr(serialize, "READ_IDLE_SECONDS", 0.2)
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    reader_first = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer open without blocking
    writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        with pytest.raises(InvalidArticle, match=r"no input for 0.2 s"):
            load_path(fifo)
    finally:
        os.close(writer)
        os.close(reader_first)


def test_a_fifo_with_an_article_is_read(tmp_path: Path) -> None:
    import os
    import threading
    import time

    text = SEED_ARTICLE.read_text(encoding="utf-8")
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)

    def write() -> None:
        with fifo.open("w", encoding="utf-8") as handle:  # blocks until the reader opens
            for start in range(0, len(text), 1000):
                handle.write(text[start:start + 1000])
                handle.flush()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        time.sleep(0.2)  # the writer is waiting in open(): the reader's open wakes it
        article = load_path(fifo)
    finally:
        thread.join(timeout=10)
    assert dumps(article) == text


def test_the_importers_read_through_the_same_cap(tmp_path: Path) -> None:
    from wikicore.importers import import_path

    with pytest.raises(InvalidArticle, match="input is over"):
        import_path("/dev/zero", "wikitext")
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)
    with pytest.raises(InvalidArticle, match=f"file is {MAX_BYTES + 1:,} bytes"):
        import_path(big)


def test_json_brackets_inside_strings_do_not_count_as_depth() -> None:
    title = "[" * 100 + '\\"{' * 100
    article = loads('{"slug": "a", "title": "' + title + '", "aliases": ["]", "}"]}', "json")
    assert article.title == "[" * 100 + '"{' * 100 and article.aliases == ["]", "}"]


# --- the stored format's own writer: PyYAML's bytes, without PyYAML's per-node cost ---------------------

#: Strings where PyYAML's choice of style turns on one rule: indicators, YAML 1.1 implicit types
#: (each resolver's first characters), document markers, leading and trailing blanks.
STYLE_CASES = [
    "", " ", "a", "yes", "No", "on", "OFF", "y", "n", "true", "False", "null", "Null", "~", "NULL", "nil",
    "0", "1", "-1", "+1", "01", "0o7", "0x1F", "0b101", "1_000", "1:20", "190:20:30", "1.5", ".5", "1e3",
    "-.inf", ".NaN", ".nan", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2002-12-14 21:59:43.10 -5",
    "=", "<<", "< <", "-", "- a", "-a", "--", "---", "---x", "...", "...x", "?", "? a", "?a", ":", ":a", ": a",
    "a:", "a: b", "a:b", "a :b", "#", "a #b", "a#b", "#a", ",a", "a,b", "[a", "a[b]", "{a}", "a{b}", "&a", "*a",
    "!a", "|a", ">a", "'a", "a'b", "a''", '"a', 'a"b', "%a", "@a", "`a", "a`", " lead", "trail ", "in  side",
    "é", "日本語。", "\u00a0", "a\u00a0", "\ufffd", "\ue000", "עברית", "$schema", "x-y", "c-24afa3ee",
    "https://example.org/a?b=c#d", "Claim 1 of x, with a few words. ", "A.", "3.14 is pi", "100%", "50 %",
]


def _python_yaml(data: object) -> str:
    import yaml

    import wikicore.serialize as serialize

    text: str = yaml.dump(data, Dumper=serialize._Dumper, allow_unicode=True, sort_keys=False,
                          default_flow_style=False, width=1_000_000, indent=2)
    return text


@pytest.mark.parametrize("value", STYLE_CASES, ids=repr)
def test_the_writer_chooses_pyyamls_style(value: str) -> None:

    data = {"title": value, "list": [value, {"k": value, "n": 7, "b": True, "z": None}], "m": {"k": value}}
    written = yamlwriter.write_yaml(data)
    assert written is not None  # every case is in the writer's grammar...
    assert written == _python_yaml(data)  # ...and written byte for byte as PyYAML writes it


@pytest.mark.parametrize("path", sorted({SEED_ARTICLE, *Path(SEED_ARTICLE).parents[1].glob("tests/data/**/*.yaml")}),
                         ids=lambda p: p.name)
def test_the_writer_matches_every_golden_file(path: Path) -> None:
    import wikicore.serialize as serialize

    raw = path.read_text(encoding="utf-8")
    data = serialize.to_data(loads(raw))
    written = yamlwriter.write_yaml(data)
    assert written in (None, _python_yaml(data))  # None: outside its grammar, PyYAML writes it
    assert dumps(loads(raw)) == raw


WRITER_TEXT = st.one_of(TEXT, ODD, st.sampled_from(STYLE_CASES), st.builds(lambda a, b: a + b, st.sampled_from(
    STYLE_CASES), st.sampled_from(STYLE_CASES)))


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(st.one_of(WRITER_TEXT, st.integers(), st.booleans(), st.none()),
                    lambda inner: st.one_of(st.lists(inner, max_size=3),
                                            st.dictionaries(st.sampled_from([*STYLE_CASES[:40], "id", "text"]),
                                                            inner, max_size=3)),
                    max_leaves=12).filter(lambda d: isinstance(d, dict)))
def test_the_writer_is_pyyaml_or_declines(data: dict[str, object]) -> None:

    written = yamlwriter.write_yaml(data)
    assert written is None or written == _python_yaml(data)


def test_small_articles_take_the_writer() -> None:
    import wikicore.serialize as serialize

    article = Article.model_validate({
        "slug": "bulk-1", "title": "Bulk 1",
        "lead": [{"claims": [{"text": f"Claim {i}, with words. ", "citations": [{"ref": "r1"}]} for i in range(3)]}],
        "references": [{"id": "r1", "type": "web", "url": "https://example.org/bulk-1", "title": "bulk-1"}],
    })
    assert yamlwriter.write_yaml(serialize.to_data(article)) is not None
