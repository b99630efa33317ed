"""Imports against a real database: SQLite always, PostgreSQL when REDHEART_TEST_DATABASE_URL is set."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select

from bot.demo.sampledata import ANCHOR, SAMPLE_FILES, read_sample, write_sample_files
from bot.domain.phones import normalise_phone, phone_hash
from bot.domain.storedata import ImportFailed, ImportResult, detect_kind, import_document, import_files
from storage.db import Database
from storage.models import Base, Category, Customer, Factor, Product, Purchase

SECRET = "test-secret"
PG_URL = os.environ.get("REDHEART_TEST_DATABASE_URL", "")

BAD_PHONE = "phone is not a valid phone number in CN or with a country code (e.g. 13800138000 or +86 138 0013 8000)"


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture
def samples(tmp_path: Path) -> dict[str, Path]:
    """The sample files as shipped (anchor unchanged), by kind."""
    paths = write_sample_files(tmp_path / "samples", anchor=ANCHOR)
    return {path.stem: path for path in paths}


def rewrite_line(path: Path, line: int, new: str) -> Path:
    """Replaces one physical line (1-based) of a file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[line - 1] = new
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def find_line(path: Path, startswith: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(startswith):
            return number
    raise AssertionError(f"{startswith!r} not in {path}")


async def count(db: Database, model: type[Base]) -> int:
    async with db.session() as s:
        return (await s.scalar(select(func.count()).select_from(model))) or 0


CATEGORY_TOML = """\
[[category]]
key = "kettle"
name_en = "Kettle"
name_zh = "电热水壶"
{factors}
"""


def category_toml(factor_keys: list[str]) -> str:
    factors = "".join(
        f'\n[[category.factor]]\nkey = "{key}"\nlabel_en = "{key} en"\nlabel_zh = "{key} 中"\n'
        f'question_en = "How is the {key}?"\nquestion_zh = "{key}怎么样？"\n'
        for key in factor_keys
    )
    return CATEGORY_TOML.format(factors=factors)


SIX = ["speed", "noise", "safety", "capacity", "handle", "looks"]


# ----------------------------------------------------------------------------------- sample data


async def test_sample_files_import_cleanly_and_the_counts_match(
    db: Database, samples: dict[str, Path]
) -> None:
    results = await import_files(db, list(samples.values()), secret=SECRET)

    assert [(r.kind, r.added, r.updated, r.unchanged) for r in results] == [
        ("categories", 2, 0, 0),
        ("products", 8, 0, 0),
        ("customers", 60, 0, 0),
        ("purchases", 79, 0, 0),
    ]
    # Shampoo has 6 factors and 4 research candidates.
    assert [await count(db, m) for m in (Category, Factor, Product, Customer, Purchase)] == [2, 16, 8, 60, 79]
    async with db.session() as s:
        shampoo = list(
            await s.scalars(
                select(Factor.key).where(Factor.category_key == "shampoo", Factor.candidate.is_(False))
                .order_by(Factor.position)
            )
        )
    assert shampoo == [
        "cleanliness",
        "aroma",
        "dandruff_control",
        "conditioning",
        "moisturizing",
        "anti_hair_loss",
    ]


async def test_sample_purchases_tell_the_demo_story_relative_to_the_anchor(
    db: Database, samples: dict[str, Path]
) -> None:
    await import_files(db, list(samples.values()), secret=SECRET)
    async with db.session() as s:
        purchases = list(await s.scalars(select(Purchase)))
        product = await s.get(Product, "SHAMPOO-001")
    assert product is not None and product.popularity >= 100 and product.sales_volume >= 50

    def of(customer: int) -> list[Purchase]:
        return [p for p in purchases if p.customer_id == f"C{customer:04d}"]

    for c in range(1, 51):
        ages = [ANCHOR - p.purchased_at for p in of(c) if p.sku == "SHAMPOO-001" and p.status == "paid"]
        assert len(ages) == 1 and timedelta(days=20) <= ages[0] <= timedelta(days=200), c
    for c in (51, 52, 53):
        assert {p.status for p in of(c)} <= {"refunded", "cancelled"} and of(c), c
    assert [(p.sku, (ANCHOR - p.purchased_at).days) for p in of(54)] == [("SHAMPOO-001", 2)]
    for c in range(55, 61):
        assert of(c) and all(p.sku != "SHAMPOO-001" for p in of(c)), c


def test_sample_files_are_shifted_to_the_anchor_they_are_written_for(tmp_path: Path) -> None:
    anchor = datetime(2030, 3, 15, 12, 30, tzinfo=UTC)
    paths = write_sample_files(tmp_path, anchor=anchor)

    assert [p.name for p in paths] == list(SAMPLE_FILES)
    shipped = list(csv.DictReader(io.StringIO(read_sample("purchases.csv"))))
    shifted = list(csv.DictReader(io.StringIO((tmp_path / "purchases.csv").read_text(encoding="utf-8"))))
    assert len(shipped) == len(shifted)
    for before, after in zip(shipped, shifted, strict=True):
        moved = datetime.fromisoformat(after["purchased_at"]) - datetime.fromisoformat(before["purchased_at"])
        assert moved == anchor - ANCHOR
        assert after["purchased_at"].endswith("Z")
    assert (tmp_path / "products.csv").read_text(encoding="utf-8") == read_sample("products.csv")


# ------------------------------------------------------------------------------------ idempotence


async def test_importing_the_same_files_twice_changes_nothing(db: Database, samples: dict[str, Path]) -> None:
    await import_files(db, list(samples.values()), secret=SECRET)
    again = await import_files(db, list(samples.values()), secret=SECRET)

    assert [(r.added, r.updated, r.unchanged) for r in again] == [
        (0, 0, 2),
        (0, 0, 8),
        (0, 0, 60),
        (0, 0, 79),
    ]
    assert await count(db, Factor) == 16


async def test_files_are_imported_in_dependency_order_whatever_the_argument_order(
    db: Database, samples: dict[str, Path]
) -> None:
    backwards = [samples["purchases"], samples["customers"], samples["products"], samples["categories"]]
    results = await import_files(db, backwards, secret=SECRET)

    assert [r.kind for r in results] == ["categories", "products", "customers", "purchases"]
    assert all(r.added > 0 for r in results)


async def test_a_failing_file_does_not_stop_the_others_and_their_results_are_reported(
    db: Database, samples: dict[str, Path]
) -> None:
    rewrite_line(samples["customers"], 3, "C0002,12,2026-10-01T00:00:00Z")
    with pytest.raises(ImportFailed) as failed:
        await import_files(
            db, [samples["customers"], samples["products"], samples["categories"]], secret=SECRET
        )

    assert failed.value.errors == [
        f"{samples['customers']}:3: {BAD_PHONE}"
    ]
    assert [(r.kind, r.added) for r in failed.value.results] == [("categories", 2), ("products", 8)]
    assert await count(db, Product) == 8
    assert await count(db, Customer) == 0


# ----------------------------------------------------------------------------------- bad rows


async def import_prerequisites(db: Database, samples: dict[str, Path], kind: str) -> None:
    order = ["categories", "products", "customers", "purchases"]
    earlier = [samples[k] for k in order[: order.index(kind)]]
    if earlier:
        await import_files(db, earlier, secret=SECRET)


BAD_ROWS = [
    pytest.param(
        "customers",
        4,
        "C0003,+86 138,2026-10-01T00:00:00Z",
        BAD_PHONE,
        Customer,
        id="bad phone",
    ),
    pytest.param(
        "customers",
        5,
        "C0004,+8613800138004,last tuesday",
        "last_active_at is not an ISO-8601 time (e.g. 2026-05-01T09:30:00Z), got 'last tuesday'",
        Customer,
        id="bad last_active_at",
    ),
    pytest.param(
        "purchases",
        2,
        "O00001,C0001,NOPE-1,2026-10-01T10:00:00Z,paid",
        "unknown sku 'NOPE-1'",
        Purchase,
        id="unknown sku",
    ),
    pytest.param(
        "purchases",
        3,
        "O00002,C9999,SHAMPOO-001,2026-10-01T10:00:00Z,paid",
        "unknown customer_id 'C9999'",
        Purchase,
        id="unknown customer",
    ),
    pytest.param(
        "purchases",
        6,
        "O00005,C0001,SHAMPOO-001,2026-10-01T10:00:00Z,returned",
        "status must be one of paid, refunded, cancelled, got 'returned'",
        Purchase,
        id="bad status",
    ),
    pytest.param(
        "purchases",
        7,
        "O00006,C0001,SHAMPOO-001,2026-13-45,paid",
        "purchased_at is not an ISO-8601 time (e.g. 2026-05-01T09:30:00Z), got '2026-13-45'",
        Purchase,
        id="bad date",
    ),
    pytest.param(
        "products",
        3,
        "SHAMPOO-002,Lanxi 兰溪氨基酸柔顺洗发水 500ml,shampoo,960",
        "expected 5 columns (sku,name,category,popularity,sales_volume), found 4",
        Product,
        id="missing column",
    ),
    pytest.param(
        "products",
        4,
        "SHAMPOO-003,Muyu 沐雨生姜防脱洗发水 300ml,shampoo,6.5,410",
        "popularity must be a non-negative integer, got '6.5'",
        Product,
        id="non-integer popularity",
    ),
    pytest.param(
        "products",
        5,
        "SHAMPOO-004,Qingquan,shampoo,150,-12",
        "sales_volume must be a non-negative integer, got '-12'",
        Product,
        id="negative sales",
    ),
    pytest.param(
        "products",
        6,
        "FACECREAM-001,Yunshan,lotion,1320,2890",
        "unknown category 'lotion'; import it in a categories .toml first",
        Product,
        id="unknown category",
    ),
    pytest.param(
        "products",
        7,
        "FACE CREAM/002,Xuelian,face_cream,88,140",
        "sku must be 1-64 characters of A-Z a-z 0-9 _ . -, got 'FACE CREAM/002'",
        Product,
        id="bad sku",
    ),
]


@pytest.mark.parametrize(("kind", "line", "row", "message", "model"), BAD_ROWS)
async def test_a_bad_row_is_reported_as_file_and_line_and_nothing_of_that_file_is_written(
    db: Database, samples: dict[str, Path], kind: str, line: int, row: str, message: str, model: type[Base]
) -> None:
    await import_prerequisites(db, samples, kind)
    path = rewrite_line(samples[kind], line, row)

    with pytest.raises(ImportFailed) as failed:
        await import_files(db, [path], secret=SECRET)

    assert failed.value.errors == [f"{path}:{line}: {message}"]
    assert failed.value.results == []
    assert await count(db, model) == 0


async def test_every_bad_row_is_reported_and_the_message_is_capped(db: Database, tmp_path: Path) -> None:
    rows = ["customer_id,phone,last_active_at", *(f"C{i},not-a-phone," for i in range(25)), "D1,,", "D1,,"]
    path = tmp_path / "customers.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    with pytest.raises(ImportFailed) as failed:
        await import_files(db, [path], secret=SECRET)

    errors = failed.value.errors
    assert len(errors) == 26
    assert errors[0] == f"{path}:2: {BAD_PHONE}"
    assert errors[-1] == f"{path}:28: duplicate customer_id 'D1' (first on line 27)"
    assert str(failed.value).splitlines()[-1] == "... and 6 more errors"
    assert await count(db, Customer) == 0


async def test_a_duplicate_key_within_a_file_is_an_error(db: Database, samples: dict[str, Path]) -> None:
    await import_prerequisites(db, samples, "purchases")
    path = rewrite_line(samples["purchases"], 10, "O00001,C0001,SHAMPOO-001,2026-10-01T10:00:00Z,paid")

    with pytest.raises(ImportFailed) as failed:
        await import_files(db, [path], secret=SECRET)

    assert failed.value.errors == [f"{path}:10: duplicate order_id 'O00001' (first on line 2)"]


async def test_an_unknown_header_is_refused_naming_the_expected_ones(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "stock.csv"
    path.write_text("sku,name,category,popularity,sales\nA,B,shampoo,1,2\n", encoding="utf-8")

    with pytest.raises(ImportFailed) as failed:
        await import_files(db, [path], secret=SECRET)

    (error,) = failed.value.errors
    assert error.startswith(f"{path}:1: unknown header, expected one of: products.csv: sku,name,category,")
    assert "customers.csv: customer_id,phone,last_active_at" in error
    assert error.endswith("(closest is products.csv: missing sales_volume; unexpected sales)")


async def test_a_file_that_is_not_utf8_is_refused_naming_the_file(db: Database, tmp_path: Path) -> None:
    data = b"customer_id,phone,last_active_at\nC1,+8613800138000,\n" + "C2,,张三\n".encode("gbk")

    with pytest.raises(ImportFailed) as failed:
        await import_document(db, "客户.csv", data, secret=SECRET)

    assert failed.value.errors == ["客户.csv:3: the file is not UTF-8 text; save it as UTF-8"]


async def test_customers_cannot_be_imported_without_the_identity_secret(
    db: Database, samples: dict[str, Path]
) -> None:
    with pytest.raises(ImportFailed) as failed:
        await import_files(db, [samples["customers"]], secret="")

    (error,) = failed.value.errors
    assert error.startswith(f"{samples['customers']}: identity.secret must be set")
    assert await count(db, Customer) == 0


# ------------------------------------------------------------------------------- updates, privacy


async def test_a_refund_arriving_later_updates_the_purchase(db: Database, samples: dict[str, Path]) -> None:
    await import_files(db, list(samples.values()), secret=SECRET)
    line = find_line(samples["purchases"], "O00010,")
    order_id, customer, sku, when, _ = samples["purchases"].read_text().splitlines()[line - 1].split(",")
    rewrite_line(samples["purchases"], line, f"{order_id},{customer},{sku},{when},refunded")

    (result,) = await import_files(db, [samples["purchases"]], secret=SECRET)

    assert (result.added, result.updated, result.unchanged) == (0, 1, 78)
    async with db.session() as s:
        purchase = await s.get(Purchase, "O00010")
    assert purchase is not None and purchase.status == "refunded"


async def test_phones_are_stored_only_as_keyed_hashes(db: Database, samples: dict[str, Path]) -> None:
    await import_files(db, list(samples.values()), secret=SECRET)
    phones = {row["customer_id"]: row["phone"] for row in csv.DictReader(samples["customers"].open())}

    dump: list[str] = []
    async with db.engine.connect() as conn:
        schema = MetaData()  # what the database really holds, every table and column
        await conn.run_sync(schema.reflect)
        for table in schema.sorted_tables:
            dump += [repr(tuple(row)) for row in await conn.execute(select(table))]
    async with db.session() as s:
        customer = await s.get(Customer, "C0001")
    everything = "\n".join(dump)
    for phone in phones.values():
        assert phone.lstrip("+") not in everything
        assert phone[-8:] not in everything
    e164 = normalise_phone(phones["C0001"])
    assert customer is not None and e164 is not None
    assert customer.phone_hash == phone_hash(SECRET, e164)


async def test_a_customer_who_asked_to_be_forgotten_is_not_reidentified_by_a_reimport(
    db: Database, samples: dict[str, Path]
) -> None:
    await import_files(db, [samples["customers"]], secret=SECRET)
    async with db.session() as s:
        customer = await s.get(Customer, "C0001")
        assert customer is not None
        customer.phone_hash = None
        customer.forgotten_at = ANCHOR

    (result,) = await import_files(db, [samples["customers"]], secret=SECRET)

    assert (result.updated, result.unchanged) == (0, 60)
    async with db.session() as s:
        assert await s.scalar(select(Customer.phone_hash).where(Customer.customer_id == "C0001")) is None


async def test_an_empty_phone_and_activity_are_allowed(db: Database) -> None:
    data = b"last_active_at,customer_id,phone\n,C1,\n2026-10-01 08:00,C2,8613800138000\n"

    result = await import_document(db, "crm-export.csv", data, secret=SECRET)

    assert (result.kind, result.added) == ("customers", 2)
    async with db.session() as s:
        c1, c2 = await s.get(Customer, "C1"), await s.get(Customer, "C2")
    assert c1 is not None and c1.phone_hash is None and c1.last_active_at is None
    assert c2 is not None and c2.phone_hash == phone_hash(SECRET, "+8613800138000")
    assert c2.last_active_at == datetime(2026, 10, 1, 8, tzinfo=UTC)  # naive is UTC


# ------------------------------------------------------------------------------------- categories


@pytest.mark.parametrize("n", [4, 11])
async def test_a_category_with_fewer_than_five_or_more_than_ten_factors_is_refused(
    db: Database, n: int
) -> None:
    keys = [f"factor_{i}" for i in range(n)]
    with pytest.raises(ImportFailed) as failed:
        await import_document(db, "kettle.toml", category_toml(keys).encode(), secret=SECRET)

    assert failed.value.errors == [f"kettle.toml:1: a category needs 5 to 10 factors, found {n}"]
    assert await count(db, Category) == 0


async def test_factor_problems_are_reported_at_their_lines(db: Database) -> None:
    text = (
        category_toml(SIX)
        .replace('key = "noise"', 'key = "Noise Level"')
        .replace('label_zh = "capacity 中"', 'label_zh = ""')
    )
    lines = text.splitlines()
    bad_key, empty_label = lines.index('key = "Noise Level"') + 1, lines.index('label_zh = ""') + 1

    with pytest.raises(ImportFailed) as failed:
        await import_document(db, "kettle.toml", text.encode(), secret=SECRET)

    assert failed.value.errors == [
        f"kettle.toml:{bad_key}: factor key 'Noise Level' must be ascii snake_case ([a-z][a-z0-9_]*)",
        f"kettle.toml:{empty_label}: factor label_zh must be a non-empty string",
    ]


async def test_a_toml_syntax_error_is_reported_with_its_line(db: Database) -> None:
    text = category_toml(SIX).replace('label_en = "safety en"', "label_en = safety")

    with pytest.raises(ImportFailed) as failed:
        await import_document(db, "kettle.toml", text.encode(), secret=SECRET)

    (error,) = failed.value.errors
    line = text.splitlines().index("label_en = safety") + 1
    assert error.startswith(f"kettle.toml:{line}: invalid TOML: ")


async def test_reimporting_a_category_replaces_its_factor_list(db: Database) -> None:
    await import_document(db, "kettle.toml", category_toml(SIX).encode(), secret=SECRET)
    same = await import_document(db, "kettle.toml", category_toml(SIX).encode(), secret=SECRET)
    changed = await import_document(
        db, "kettle.toml", category_toml(["looks", "speed", "noise", "safety", "lid"]).encode(), secret=SECRET
    )

    assert (same.added, same.updated, same.unchanged) == (0, 0, 1)
    assert (changed.added, changed.updated, changed.unchanged) == (0, 1, 0)
    async with db.session() as s:
        factors = list(await s.execute(select(Factor.position, Factor.key).order_by(Factor.position)))
    assert [tuple(f) for f in factors] == [
        (0, "looks"),
        (1, "speed"),
        (2, "noise"),
        (3, "safety"),
        (4, "lid"),
    ]


# --------------------------------------------------------------------------------------- documents


async def test_import_document_imports_bytes_with_a_byte_order_mark(
    db: Database, samples: dict[str, Path]
) -> None:
    await import_files(db, [samples["categories"]], secret=SECRET)
    data = b"\xef\xbb\xbf" + samples["products"].read_bytes().replace(b"\n", b"\r\n")

    result = await import_document(db, "document.csv", data, secret=SECRET)

    assert result == ImportResult("document.csv", "products", 8, 0, 0)


@pytest.mark.parametrize(
    ("filename", "text", "kind"),
    [
        ("a.csv", "sku,name,category,popularity,sales_volume", "products"),
        ("a.csv", "\ufeffPhone, customer_id ,last_active_at\n", "customers"),
        ("a.csv", "status,order_id,sku,customer_id,purchased_at\nx", "purchases"),
        ("categories.toml", "", "categories"),
        ("upload.txt", "# ours\n[[category]]\nkey = 'x'\n", "categories"),
    ],
)
def test_the_kind_of_a_file_is_known_by_its_header_in_any_column_order(
    filename: str, text: str, kind: str
) -> None:
    assert detect_kind(filename, text) == kind


def test_an_empty_file_has_no_header_and_is_refused() -> None:
    with pytest.raises(ImportFailed) as failed:
        detect_kind("empty.csv", "\n")
    assert failed.value.errors == ["empty.csv:1: the file is empty; a header row is required"]
