"""An operator's safety nets on the command line: one database wherever the command runs from, no
database left by a failed first import, links that name the real bot (one, or a whole mailing),
overlapping rounds refused, a preview of who a scheduled round will invite, and --version."""

from __future__ import annotations

import asyncio
import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config
from bot.demo.sampledata import ANCHOR, write_sample_files
from bot.domain import identity
from bot.domain.runtime import Runtime
from storage.db import Database

SETTINGS = ('[identity]\nsecret = "s"\n'
            '[eligibility]\nactive_within_days = 100000\npurchase_window_days = 100000\n')


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A store folder whose config names its database relatively, run from a different folder."""
    folder = tmp_path / "store"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = folder / "redheart.toml"
    config.write_text('[telegram]\nusername = "lrh_shop_bot"\n[database]\nurl = "sqlite:///data/store.db"\n'
                      + SETTINGS, encoding="utf-8")

    def run(*args: str) -> tuple[int, str, str]:
        words = 2 if args[0] == "round" else 1
        code = main([*args[:words], "--config", str(config), *args[words:]])
        out = capsys.readouterr()
        return code, out.out, out.err

    run.folder, run.elsewhere, run.config = folder, elsewhere, config  # type: ignore[attr-defined]
    return run


def samples(tmp_path: Path) -> list[str]:
    return [str(p) for p in write_sample_files(tmp_path / "samples", anchor=ANCHOR)]


def link_customers(config_path: Path, customer_ids: list[str]) -> None:
    """The customers open their deep links (as the bot would record it)."""

    async def go() -> None:
        config = load_config(config_path)
        db = await Database.open(config.database_url)
        try:
            rt = Runtime(db, config)
            for i, cid in enumerate(customer_ids):
                await identity.link_by_token(rt, await identity.issue_link_token(rt, cid), 8000 + i)
        finally:
            await db.close()

    asyncio.run(go())


def test_a_relative_sqlite_path_is_read_from_the_config_files_folder(store, tmp_path: Path) -> None:
    code, _, err = store("import", *samples(tmp_path))
    assert code == 0, err
    assert (store.folder / "data" / "store.db").is_file()
    assert list(store.elsewhere.iterdir()) == []  # no second database where the command ran
    code, out, _ = store("products")
    assert code == 0 and "SHAMPOO-001" in out


def test_a_first_import_that_partly_succeeds_keeps_what_it_imported(store, tmp_path: Path) -> None:
    files = samples(tmp_path)
    bad = tmp_path / "purchases.csv"
    bad.write_text("order_id,customer_id,sku,purchased_at,status\nO1,NOBODY,SHAMPOO-001,2026-01-01T00:00Z,paid\n",
                   encoding="utf-8")
    code, _, err = store("import", *[f for f in files if not f.endswith("purchases.csv")], str(bad))
    assert code == 1 and f"{bad}:2:" in err
    assert sorted(p.name for p in (store.folder / "data").iterdir()) == ["store.db"]
    assert "SHAMPOO-001" in store("products")[1]


def test_a_failed_first_import_leaves_no_database_nor_the_folder_it_needed(store, tmp_path: Path) -> None:
    unknown = tmp_path / "stock.csv"
    unknown.write_text("warehouse,count\nW1,5\n", encoding="utf-8")
    code, _, err = store("import", str(unknown))
    assert code == 1 and str(unknown) in err
    assert sorted(p.name for p in store.folder.iterdir()) == ["redheart.toml"]


def test_a_first_import_never_replaces_a_database_created_meanwhile(store, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.domain.storedata as storedata

    real = storedata.import_files
    target = store.folder / "data" / "store.db"

    async def racing(*args, **kwargs):  # type: ignore[no-untyped-def]
        results = await real(*args, **kwargs)
        target.write_bytes(b"the bot created this one meanwhile")
        return results

    monkeypatch.setattr(storedata, "import_files", racing)
    code, _, err = store("import", *samples(tmp_path))
    assert code == 1 and "a database appeared at" in err and err.count("\n") == 1
    assert target.read_bytes() == b"the bot created this one meanwhile"
    assert sorted(p.name for p in target.parent.iterdir()) == ["store.db"]


def test_a_command_that_only_reads_refuses_a_missing_database_instead_of_creating_one(store) -> None:
    code, _, err = store("round", "list")
    assert code == 1 and f"database {store.folder / 'data' / 'store.db'}: cannot open it: no such file" in err
    assert err.count("\n") == 1 and not (store.folder / "data" / "store.db").exists()


def test_link_names_the_configured_bot(store, tmp_path: Path) -> None:
    store("import", *samples(tmp_path))
    code, out, _ = store("link", "C0001")
    assert code == 0 and re.fullmatch(r"https://t\.me/lrh_shop_bot\?start=[A-Za-z0-9_-]{38}", out.splitlines()[0])


@pytest.mark.parametrize(("telegram", "message"), [
    ("", "set telegram.username"),
    ('token = "123:abc"\nbase_url = "http://127.0.0.1:9/bot"\n', "cannot reach the Bot API"),
])
def test_link_fails_in_one_line_rather_than_print_a_placeholder(store, tmp_path: Path, telegram: str,
                                                                message: str) -> None:
    store("import", *samples(tmp_path))
    store.config.write_text(f'[telegram]\n{telegram}[database]\nurl = "sqlite:///data/store.db"\n' + SETTINGS,
                            encoding="utf-8")
    code, out, err = store("link", "C0001")
    assert code == 1 and message in err and err.count("\n") == 1 and "YOUR_BOT" not in out + err


def test_link_all_writes_one_working_link_per_customer_who_can_still_link(store, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.cli_admin
    import bot.domain.linkmail

    monkeypatch.setattr(bot.domain.linkmail, "BATCH", 10)
    monkeypatch.setattr(bot.cli_admin, "PROGRESS_EVERY", 25)
    store("import", *samples(tmp_path))
    out_file = tmp_path / "links.csv"
    code, out, err = store("link", "--all", "--out", str(out_file))
    assert code == 0 and "60 links (skipped 0 already linked, 0 forgotten)" in out
    assert err.splitlines() == ["links: 30/60", "links: 50/60", "links: 60/60"]
    assert out_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    rows = list(csv.DictReader(out_file.open(encoding="utf-8")))
    assert [r["customer_id"] for r in rows] == [f"C{n:04d}" for n in range(1, 61)]
    assert all(r["link"] == f"https://t.me/lrh_shop_bot?start={r['payload']}" for r in rows)

    async def link_everyone() -> list[str]:
        config = load_config(store.config)
        db = await Database.open(config.database_url)
        try:
            rt = Runtime(db, config)
            return [await identity.link_by_token(rt, r["payload"], 7000 + i) for i, r in enumerate(rows[:5])]
        finally:
            await db.close()

    assert asyncio.run(link_everyone()) == ["C0001", "C0002", "C0003", "C0004", "C0005"]
    code, out, _ = store("link", "--all", "--out", str(out_file))
    assert code == 0 and "55 links (skipped 5 already linked, 0 forgotten)" in out


@pytest.mark.parametrize("args", [("link",), ("link", "--all"), ("link", "C0001", "--all", "--out", "x.csv")])
def test_link_asks_for_one_customer_or_all_with_a_file(store, tmp_path: Path, args: tuple[str, ...]) -> None:
    store("import", *samples(tmp_path))
    code, _, err = store(*args)
    assert code == 1 and "link" in err and err.count("\n") == 1


def test_an_overlapping_round_of_one_product_is_refused_unless_forced(store, tmp_path: Path) -> None:
    store("import", *samples(tmp_path))
    day = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d")
    assert store("round", "new", "SHAMPOO-001", "--duration", "2h", "--opens-at", f"{day}T10:00Z")[0] == 0
    code, _, err = store("round", "new", "SHAMPOO-001", "--duration", "2h", "--opens-at", f"{day}T11:00Z")
    assert code == 1 and "SHAMPOO-001 already has round 1" in err and "--force" in err and err.count("\n") == 1
    code, out, _ = store("round", "new", "SHAMPOO-001", "--duration", "2h", "--opens-at", f"{day}T12:00Z")
    assert code == 0 and out.strip() == "2"  # starts when the first ends: no overlap
    code, out, _ = store("round", "new", "SHAMPOO-001", "--opens-at", f"{day}T11:00Z", "--force")
    assert code == 0 and out.strip() == "3"
    assert store("round", "new", "SHAMPOO-002", "--opens-at", f"{day}T11:00Z")[0] == 0  # another product


def test_round_show_of_a_scheduled_round_previews_who_opening_it_would_invite(store, tmp_path: Path) -> None:
    store("import", *samples(tmp_path))
    link_customers(store.config, [f"C{n:04d}" for n in range(1, 31)])
    round_id = store("round", "new", "SHAMPOO-001", "--quota", "5")[1].strip()
    code, out, _ = store("round", "show", round_id)
    preview = re.search(r"If it opened now: (\d+) buyers, (\d+) eligible, (\d+) would be invited", out)
    assert code == 0 and preview, out
    buyers, eligible, invited = map(int, preview.groups())
    assert eligible > 5 and invited == 5 and buyers > eligible
    assert re.search(r"would leave out: .*no linked account \d+", out)  # half the buyers have not linked
    store("round", "close", round_id)  # opens it first, with the same rules
    code, out, _ = store("round", "show", round_id)
    assert f"eligible {eligible}, sampled {invited}" in out and "If it opened now" not in out


def test_version_prints_the_installed_version(store, capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_code:
        main(["--version"])
    assert exit_code.value.code == 0 and capsys.readouterr().out.strip() == f"redheart {version('redheart')}"
