#!/usr/bin/env python3
"""Generate an example invctl ledger: a year (or more) of a small clothing-and-snacks shop.

    python examples/generate.py --out examples/shop            # the bundled example
    python examples/generate.py --out /tmp/big --events 1000000  # a benchmark history

The output is deterministic: the same options give byte-identical files (ids are ULIDs
whose random part comes from a generator seeded with --seed). The simulation keeps its
own stock per SKU, location and lot, so it never sells, moves or writes off more than
is on hand and the ledger replays with no negative stock. See examples/README.md.

It is a standalone script on purpose (users run it), so it only borrows the few things
that must match invctl exactly: the key order of a journal line and the settings file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import math
import random
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

try:
    import tomli_w

    from invctl.create import GITATTRIBUTES, GITIGNORE, settings_text
    from invctl.events import to_line
    from invctl.settings import Settings
except ModuleNotFoundError as exc:  # run with a Python that has invctl installed
    sys.exit(f"generate.py needs invctl installed ({exc}); run it with the project's venv: "
             ".venv/bin/python examples/generate.py ...")

TIMEZONE = "Europe/Berlin"
LOCATIONS = ("main", "store2")
MAIN, STORE2 = 0, 1
DEFAULT_ORDERS_PER_DAY = 25
DEFAULT_SKUS = 40

# --- the catalog -------------------------------------------------------------------------


@dataclass(frozen=True)
class Supplier:
    id: str
    name: str
    lead_time: int  # promised days from order to receipt
    review_weekday: int  # the buyer orders from this supplier once a week, on this day
    lot_prefix: str  # perishable lots are named prefix + production date
    email: str


SUPPLIERS = (
    Supplier("nordtex", "Nordtex Apparel GmbH", 21, 0, "NT", "orders@nordtex.example"),
    Supplier("snackhaus", "Snackhaus Großhandel KG", 7, 2, "SH", "bestellung@snackhaus.example"),
    Supplier("quellwerk", "Quellwerk Getränke GmbH", 4, 3, "QW", "order@quellwerk.example"),
)
SUPPLIER = {s.id: s for s in SUPPLIERS}


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str  # apparel | accessories | snacks | drinks
    season: str  # key of SEASONS: how demand moves over the year
    supplier: str
    price: int  # cents
    cost: int  # cents
    pack: int  # the supplier's case size: purchase orders are multiples of it
    weight: float  # popularity relative to the other SKUs
    shelf_life: int = 0  # days from production to expiry; 0 for goods that do not expire
    amazon: bool = True  # listed on Amazon (drinks are not)

    @property
    def perishable(self) -> bool:
        return self.shelf_life > 0


SIZES = (("S", 0.7), ("M", 1.2), ("L", 1.1), ("XL", 0.6))


def _sized(code: str, name: str, season: str, price: int, cost: int, weight: float) -> list[Product]:
    return [Product(f"{code}-{size}", f"{name} {size}", "apparel", season, "nordtex", price, cost, 10,
                    round(weight * share, 3)) for size, share in SIZES]


def _snack(code: str, name: str, price: int, cost: int, life: int, weight: float, season: str = "snack") -> Product:
    return Product(code, name, "snacks", season, "snackhaus", price, cost, 12, weight, life)


def _drink(code: str, name: str, price: int, cost: int, life: int, weight: float, season: str = "drink") -> Product:
    return Product(code, name, "drinks", season, "quellwerk", price, cost, 24, weight, life, amazon=False)


def base_catalog() -> list[Product]:
    """The 40 SKUs of the bundled example shop."""
    return [
        *_sized("TEE-BLK", "Logo T-shirt black", "tee", 1990, 620, 1.0),
        *_sized("TEE-WHT", "Logo T-shirt white", "tee", 1990, 620, 0.8),
        *_sized("HOOD-NVY", "Zip hoodie navy", "hoodie", 4990, 1850, 0.5),
        *_sized("HOOD-GRY", "Zip hoodie grey", "hoodie", 4990, 1850, 0.4),
        Product("SOCK-3538", "Socks 3-pack 35-38", "apparel", "socks", "nordtex", 1290, 310, 12, 0.6),
        Product("SOCK-3942", "Socks 3-pack 39-42", "apparel", "socks", "nordtex", 1290, 310, 12, 0.9),
        Product("SOCK-4346", "Socks 3-pack 43-46", "apparel", "socks", "nordtex", 1290, 310, 12, 0.7),
        Product("CAP-BLK", "Dad cap black", "accessories", "cap", "nordtex", 2490, 740, 6, 0.5),
        Product("CAP-OLV", "Dad cap olive", "accessories", "cap", "nordtex", 2490, 740, 6, 0.3),
        Product("BEANIE-BLK", "Rib beanie black", "accessories", "beanie", "nordtex", 1990, 520, 6, 0.4),
        Product("BEANIE-RED", "Rib beanie red", "accessories", "beanie", "nordtex", 1990, 520, 6, 0.25),
        Product("TOTE-NAT", "Canvas tote natural", "accessories", "flat", "nordtex", 1490, 350, 10, 0.35),
        _snack("SNK-CRISP-SALT", "Sea salt crisps 125 g", 249, 95, 180, 1.0),
        _snack("SNK-CRISP-PAP", "Paprika crisps 125 g", 249, 95, 180, 0.8),
        _snack("SNK-CHOC-DARK", "Dark chocolate 70% 100 g", 329, 120, 300, 0.7, "choc"),
        _snack("SNK-CHOC-MILK", "Milk chocolate hazelnut 100 g", 329, 115, 300, 0.8, "choc"),
        _snack("SNK-BAR-PROT", "Protein bar peanut 60 g", 279, 105, 150, 0.9),
        _snack("SNK-ALMOND", "Roasted almonds 150 g", 449, 180, 240, 0.5),
        _snack("SNK-GUMMY", "Fruit gummies 200 g", 219, 70, 365, 0.7),
        _snack("SNK-COOKIE", "Oat cookies 175 g", 299, 100, 75, 0.6),
        _drink("DRK-COLA", "Cola 0.33 l can", 189, 55, 270, 1.0),
        _drink("DRK-LEMON", "Lemonade 0.33 l", 199, 60, 180, 0.8),
        _drink("DRK-MATE", "Mate soda 0.5 l", 249, 80, 240, 0.9),
        _drink("DRK-ICETEA", "Iced tea peach 0.5 l", 199, 55, 180, 0.6),
        _drink("DRK-WATER", "Sparkling water 0.5 l", 99, 25, 365, 0.7, "flat"),
        _drink("DRK-ENERGY", "Energy drink 0.25 l", 229, 75, 365, 0.6, "snack"),
        _drink("DRK-COLDBREW", "Cold brew coffee 0.25 l", 349, 130, 60, 0.4),
        _drink("DRK-JUICE", "Cloudy apple juice 0.33 l", 229, 70, 40, 0.35),
    ]


COLOURS = (("RED", "red"), ("GRN", "forest green"), ("SND", "sand"), ("BLU", "royal blue"),
           ("PNK", "pink"), ("YLW", "mustard"), ("BRG", "burgundy"), ("TEA", "teal"))
FLAVOURS = ("Sour cream", "Chili lime", "Salt & vinegar", "Cheese & onion", "Truffle", "BBQ", "Wasabi", "Rosemary")
SODAS = ("Ginger", "Rhubarb", "Elderflower", "Blood orange", "Cherry", "Mango", "Grapefruit", "Raspberry")


def _extra_round(k: int) -> list[Product]:
    """Ten more SKUs (a tee and a hoodie colour, a snack, a drink): the long tail of big catalogs."""
    code, colour = COLOURS[k] if k < len(COLOURS) else (f"C{k:03d}", f"colour {k}")
    flavour = FLAVOURS[k] if k < len(FLAVOURS) else f"Flavour no. {k}"
    soda = SODAS[k] if k < len(SODAS) else f"Soda no. {k}"
    tail = 1 / (1 + 0.3 * k)  # newer designs sell less
    return [
        *_sized(f"TEE-{code}", f"Logo T-shirt {colour}", "tee", 1990, 620, 0.7 * tail),
        *_sized(f"HOOD-{code}", f"Zip hoodie {colour}", "hoodie", 4990, 1850, 0.35 * tail),
        _snack(f"SNK-CRISP-X{k:03d}", f"{flavour} crisps 125 g", 249, 95, 180, 0.6 * tail),
        _drink(f"DRK-SODA-X{k:03d}", f"{soda} soda 0.33 l", 199, 60, 180, 0.5 * tail),
    ]


def catalog(n: int) -> list[Product]:
    """n SKUs: the base 40, evenly thinned when fewer are asked for, with a long tail when more."""
    base = base_catalog()
    if n <= len(base):
        return [base[i * len(base) // n] for i in range(n)]
    out = list(base)
    k = 0
    while len(out) < n:
        out.extend(_extra_round(k))
        k += 1
    return out[:n]


# --- demand: seasons, weekdays, promotions --------------------------------------------------

# Monthly demand factors (January..December), interpolated day by day. Tables rather than
# cosines: plain arithmetic gives the same floats on every platform, so the same bytes.
SEASONS = {
    "tee": (0.7, 0.75, 0.9, 1.0, 1.2, 1.35, 1.4, 1.3, 1.05, 0.85, 0.75, 0.9),
    "hoodie": (1.6, 1.4, 1.1, 0.8, 0.5, 0.35, 0.3, 0.4, 0.8, 1.2, 1.6, 1.9),
    "beanie": (1.8, 1.5, 0.9, 0.4, 0.15, 0.1, 0.1, 0.15, 0.5, 1.2, 1.9, 2.2),
    "socks": (1.1, 1.0, 0.95, 0.9, 0.85, 0.8, 0.8, 0.85, 0.95, 1.05, 1.2, 1.6),
    "cap": (0.5, 0.6, 0.9, 1.2, 1.5, 1.6, 1.6, 1.4, 1.0, 0.7, 0.5, 0.6),
    "flat": (1.0,) * 12,
    "snack": (1.05, 1.0, 1.0, 0.95, 0.95, 0.95, 0.95, 0.95, 1.0, 1.05, 1.1, 1.2),
    "choc": (1.2, 1.1, 1.0, 0.85, 0.6, 0.5, 0.5, 0.55, 0.85, 1.1, 1.4, 1.9),
    "drink": (0.55, 0.6, 0.8, 1.0, 1.3, 1.6, 1.8, 1.7, 1.2, 0.85, 0.6, 0.55),
}


def _season_table(months: tuple[float, ...]) -> list[float]:
    """A factor per day of the year (1..366), linear between mid-month points."""
    out = [0.0]
    for doy in range(1, 367):
        t = (doy - 0.5) * 12 / 366 - 0.5
        i = math.floor(t)
        frac = t - i
        out.append(months[i % 12] * (1 - frac) + months[(i + 1) % 12] * frac)
    return out


SEASON_BY_DAY = {key: _season_table(months) for key, months in SEASONS.items()}


@dataclass(frozen=True)
class Channel:
    name: str
    share: float  # of all orders
    loc: int  # where its orders are picked from
    weekdays: tuple[float, ...]  # Monday..Sunday
    return_rate: float  # share of apparel lines sent back


CHANNELS = (
    Channel("shopify", 0.5, MAIN, (1.15, 1.05, 1.0, 0.95, 0.85, 0.8, 1.2), 0.09),
    Channel("amazon", 0.3, MAIN, (1.1, 1.05, 1.0, 1.0, 0.9, 0.85, 1.1), 0.12),
    # The shop in Berlin: closed on Sundays, busiest on Saturdays.
    Channel("pos", 0.2, STORE2, (0.85, 0.9, 0.95, 1.05, 1.35, 1.9, 0.0), 0.03),
)
SHOPIFY, AMAZON, POS = 0, 1, 2
CLOSED_HOLIDAYS = {(1, 1), (5, 1), (10, 3), (12, 25), (12, 26)}  # the store shuts; online goes on


@functools.cache
def black_friday(year: int) -> dt.date:
    first = dt.date(year, 11, 1)
    thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)
    return thursday + dt.timedelta(days=1)


def demand_boost(date: dt.date, channel: int) -> float:
    """Holiday and promotion effects on the number of orders."""
    md = (date.month, date.day)
    if channel == POS and md in CLOSED_HOLIDAYS:
        return 0.0
    bf = black_friday(date.year)
    if 0 <= (date - bf).days <= 3:  # Black Friday to Cyber Monday
        return (2.5, 1.8, 1.4)[channel]
    if (11, 20) <= md <= (12, 20):
        return 1.35
    if (12, 21) <= md <= (12, 23):
        return 1.6 if channel == POS else 0.9  # too late to ship: people walk in
    if md >= (12, 24) or md <= (1, 1):
        return 0.6
    if (1, 2) <= md <= (1, 15):
        return 0.85
    if (7, 1) <= md <= (7, 14) and channel != AMAZON:
        return 1.25  # summer sale
    return 1.0


def web_order_second(u: float) -> int:
    """A time of day for a web order from a uniform draw: 06:00-24:00, busier from 18:00."""
    if u < 0.6:
        return 6 * 3600 + int(u / 0.6 * 18 * 3600)
    return 18 * 3600 + int((u - 0.6) / 0.4 * 6 * 3600)


def store_order_second(u: float) -> int:
    """A time of day for a sale in the store, open 10:00-20:00."""
    return 10 * 3600 + int(u * 10 * 3600)


def sale_days(date: dt.date) -> bool:
    """Whether prices may be discounted today (Black Friday weekend, summer sale)."""
    return 0 <= (date - black_friday(date.year)).days <= 3 or (7, 1) <= (date.month, date.day) <= (7, 14)


def price_factor(date: dt.date, channel: int, product: Product) -> float:
    """Discounts: Black Friday on the web shop, summer sale on tees and caps."""
    if product.category in ("apparel", "accessories"):
        if channel == SHOPIFY and 0 <= (date - black_friday(date.year)).days <= 3:
            return 0.8
        if (7, 1) <= (date.month, date.day) <= (7, 14) and channel != AMAZON and product.season in ("tee", "cap"):
            return 0.75
    return 1.0


# Draw tables (20 equally likely entries) keep the hot path to one random() per choice.
LINES_PER_ORDER = (1,) * 12 + (2,) * 6 + (3,) * 2
QTY_BY_CATEGORY = {
    "apparel": (1,) * 18 + (2,) * 2,
    "accessories": (1,) * 18 + (2,) * 2,
    "snacks": (1,) * 9 + (2,) * 5 + (3,) * 3 + (4,) * 3,
    "drinks": (1,) * 7 + (2,) * 4 + (3,) * 2 + (4,) * 2 + (6,) * 5,
}
MEAN_LINES = sum(LINES_PER_ORDER) / len(LINES_PER_ORDER)
MEAN_QTY = {k: sum(v) / len(v) for k, v in QTY_BY_CATEGORY.items()}
REGIONS = ("DE-NW",) * 5 + ("DE-BY",) * 4 + ("DE-BW",) * 3 + ("DE-BE",) * 3 + ("DE-HE",) * 2 + (
    "DE-NI", "DE-NI", "DE-HH", "DE-SN", "DE-RP", "DE-SH", "AT", "AT", "NL", "CH", "FR", "DK")
STORE_REGION = "DE-BE"
GROWTH_PER_YEAR = 0.15

STAFF_ONLINE = ("anna", "ben")
STAFF_STORE = ("chiara", "deniz")  # morning and late shift
WAREHOUSE = "ben"
BUYER = "mareike"


# --- calendar, ids and the journal files ---------------------------------------------------

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_HMS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]
EARLIEST = 4 * 3600  # nothing happens before 04:00, so a day has one UTC offset (DST switches at 02:00-03:00)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # 10 bits -> 2 characters


def ulid_time(ms: int) -> str:
    """The 10-character time part of a ULID (48 bits of milliseconds, 2 leading zero bits)."""
    p = _PAIRS
    return p[ms >> 40] + p[(ms >> 30) & 1023] + p[(ms >> 20) & 1023] + p[(ms >> 10) & 1023] + p[ms & 1023]


def ulid_random(r: int) -> str:
    """The 16-character random part of a ULID (80 bits); unrolled, as it runs once per event."""
    p = _PAIRS
    return (p[r >> 70] + p[(r >> 60) & 1023] + p[(r >> 50) & 1023] + p[(r >> 40) & 1023]
            + p[(r >> 30) & 1023] + p[(r >> 20) & 1023] + p[(r >> 10) & 1023] + p[r & 1023])


def ulid(ms: int, rand: int) -> str:
    """A ULID from a 48-bit millisecond time and 80 random bits, encoded as invctl.ids does."""
    return ulid_time(ms) + ulid_random(rand)


@dataclass(frozen=True)
class Day:
    index: int  # days since --start
    date: dt.date
    prefix: str  # "2026-03-14T"
    offset: str  # "+01:00"
    base: int  # UTC epoch seconds of local midnight, at the offset the day has from 04:00 on


def make_day(index: int, date: dt.date, tz: ZoneInfo) -> Day:
    delta = dt.datetime(date.year, date.month, date.day, 12, tzinfo=tz).utcoffset()
    assert delta is not None
    seconds = int(delta.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    offset = f"{sign}{abs(seconds) // 3600:02d}:{abs(seconds) // 60 % 60:02d}"
    return Day(index, date, f"{date.isoformat()}T", offset, (date.toordinal() - _EPOCH_ORDINAL) * 86400 - seconds)


class Journal:
    """Writes event lines into journal/YYYY/YYYY-MM.jsonl, one month file open at a time.

    Ids are monotonic ULIDs: the time part is the event's ts; within one second the
    random part counts up, so ids sort in the order events were generated. Without a
    root it only counts (a trial run).
    """

    def __init__(self, root: Path | None, seed: int):
        self.root = root
        self.ids = random.Random(f"invctl-example-ids-{seed}")
        self.fh: TextIO | None = None
        self.month = ""
        self.day: Day | None = None
        self.lines: list[str] = []
        self.events = 0
        self.files = 0
        self._last_ms = -1
        self._last_rand = 0
        self._time_part = ""

    def start_day(self, day: Day) -> None:
        self.flush()
        self.day = day
        month = day.prefix[:7]
        if month != self.month:
            self.close()
            self.month = month
            if self.root is None:
                return
            path = self.root / "journal" / month[:4] / f"{month}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - kept open for the month
            self.files += 1

    def stamp(self, sec: int) -> tuple[str, str]:
        """(id, ts) of an event at ``sec`` seconds into the current day."""
        day = self.day
        assert day is not None and EARLIEST <= sec < 86400
        ms = (day.base + sec) * 1000
        if ms == self._last_ms:
            rand = self._last_rand + 1
        else:
            rand = self.ids.getrandbits(79)  # headroom for counting up within the second
            self._last_ms = ms
            self._time_part = ulid_time(ms)
        self._last_rand = rand
        return self._time_part + ulid_random(rand), day.prefix + _HMS[sec] + day.offset

    def event(self, sec: int, type_: str, **fields: Any) -> str:
        """Append one event (None values left out); returns its id."""
        id_, ts = self.stamp(sec)
        record = {"id": id_, "ts": ts, "type": type_, **{k: v for k, v in fields.items() if v is not None}}
        self.add(to_line(record).decode())
        return id_

    def add(self, line: str) -> None:
        self.lines.append(line)
        self.events += 1

    def flush(self) -> None:
        if self.lines:
            if self.fh is not None:
                self.fh.write("".join(self.lines))
            self.lines.clear()

    def close(self) -> None:
        self.flush()
        if self.fh is not None:
            self.fh.close()
            self.fh = None


_MONEY: dict[int, str] = {}


def money(cents: int) -> str:
    """Cents as a decimal string with 2 decimals ("6.20")."""
    text = _MONEY.get(cents)
    if text is None:
        text = _MONEY[cents] = f"{cents // 100}.{cents % 100:02d}"
    return text


# --- stock as the replay will see it ----------------------------------------------------------

Lot = list[Any]  # [expires ordinal, lot name, expires ISO date, qty]


class Stock:
    """On hand per location and SKU; perishables also keep their lots in first-expiring-first-out
    order (ties: the earlier one first), exactly as the replay consumes its layers."""

    def __init__(self, products: list[Product]):
        n = len(products)
        self.qty = [[0] * n for _ in LOCATIONS]
        self.lots: list[list[list[Lot] | None]] = [[[] if p.perishable else None for p in products] for _ in LOCATIONS]
        self.seen = [[False] * n for _ in LOCATIONS]  # has this position ever held stock (worth counting)

    def put(self, loc: int, i: int, qty: int, lots: Iterable[Lot] = ()) -> None:
        self.qty[loc][i] += qty
        self.seen[loc][i] = True
        held = self.lots[loc][i]
        if held is None:
            return
        for lot in lots:
            at = len(held)
            while at and held[at - 1][0] > lot[0]:
                at -= 1
            held.insert(at, lot)

    def take(self, loc: int, i: int, qty: int) -> list[Lot]:
        """Remove ``qty`` (never more than on hand); returns the lot pieces taken."""
        assert 0 < qty <= self.qty[loc][i]
        self.qty[loc][i] -= qty
        held = self.lots[loc][i]
        if held is None:
            return []
        pieces = []
        while qty:
            head = held[0]
            if head[3] <= qty:
                qty -= head[3]
                pieces.append(held.pop(0))
            else:
                head[3] -= qty
                pieces.append([head[0], head[1], head[2], qty])
                qty = 0
        return pieces


# --- purchasing ---------------------------------------------------------------------------------


@dataclass
class POLine:
    po: str
    product: int
    qty: int
    cost: int
    outstanding: int
    cancelled: bool = False


@dataclass
class Arrival:
    line: POLine
    qty: int
    partial: bool = False  # the first part of a split delivery


@dataclass
class Returning:
    product: int
    qty: int
    loc: int
    refund: int
    order: str
    customer: str | None
    channel: int


Action = tuple[int, int, Callable[..., None], tuple[Any, ...]]  # (second of the day, tie-break, method, args)


@dataclass
class Options:
    out: Path
    seed: int = 1
    start: dt.date = dt.date(2025, 11, 1)
    days: int = 365
    orders_per_day: float = DEFAULT_ORDERS_PER_DAY
    skus: int = DEFAULT_SKUS


@dataclass
class Counters:
    orders: list[int] = field(default_factory=lambda: [0] * len(CHANNELS))
    customers: int = 0
    po: int = 0
    lost_lines: int = 0  # wanted, but out of stock
    customer_events: int = 0  # sales and returns: the events that scale with orders


class Shop:
    """The simulation, one day at a time.

    Each activity is an action at a second of the day; a day's actions run in time order
    against the tracked stock. All events of one action share its second (ids count up
    within a second), so the replay, which orders by (ts, id), sees exactly the order in
    which the stock was tracked here.
    """

    def __init__(self, opts: Options, journal: Journal):
        self.opts = opts
        self.rng = random.Random(f"invctl-example-{opts.seed}")
        self.j = journal
        self.products = catalog(opts.skus)
        self.items = list(range(len(self.products)))
        self.stock = Stock(self.products)
        self.on_order = [0] * len(self.products)
        self.arrivals: dict[int, list[Arrival]] = {}  # by day index
        self.returns: dict[int, list[Returning]] = {}
        self.later: dict[int, list[tuple[int, Callable[..., None], tuple[Any, ...]]]] = {}
        self.n = Counters()
        self.tz = ZoneInfo(TIMEZONE)
        self.by_supplier = {s.id: [i for i, p in enumerate(self.products) if p.supplier == s.id] for s in SUPPLIERS}
        self.season_rows = [SEASON_BY_DAY[p.season] for p in self.products]
        self.cum_weights: list[list[float]] = []
        self._totals: dict[int, tuple[float, ...]] = {}
        self.sec = 0  # the second of the day of the action running
        self.sale_today = False
        self.dup_receipt_due = self.dup_sale_due = self.cancel_due = False

    # --- demand model ----------------------------------------------------------------------

    def _weight_totals(self, doy: int) -> tuple[float, ...]:
        """Sum of the SKU weights each channel draws from on this day of the year."""
        found = self._totals.get(doy)
        if found is None:
            found = self._totals[doy] = tuple(
                sum(p.weight * row[doy] for p, row in zip(self.products, self.season_rows, strict=True)
                    if c != AMAZON or p.amazon) for c in range(len(CHANNELS)))
        return found

    def orders_expected(self, date: dt.date, channel: int, weekday_average: bool = False) -> float:
        ch = CHANNELS[channel]
        week = sum(ch.weekdays) / 7 if weekday_average else ch.weekdays[date.weekday()]
        years = (date - self.opts.start).days / 365
        return self.opts.orders_per_day * ch.share * week * demand_boost(date, channel) * (1 + GROWTH_PER_YEAR * years)

    def channel_units(self, date: dt.date, channel: int) -> float:
        """Expected lines per day on a channel per unit of SKU weight x season factor."""
        doy = date.timetuple().tm_yday
        return self.orders_expected(date, channel, True) * MEAN_LINES / self._weight_totals(doy)[channel]

    def store_units(self, i: int, date: dt.date) -> float:
        """Expected units per day of one SKU at the store."""
        p = self.products[i]
        doy = date.timetuple().tm_yday
        return p.weight * self.season_rows[i][doy] * MEAN_QTY[p.category] * self.channel_units(date, POS)

    def window_units(self, items: list[int], start: dt.date, days: int) -> list[float]:
        """Expected units sold of each item (all channels) over ``days`` days from ``start``."""
        # A day's factors depend only on (season, listed on Amazon): sum those, then scale per item.
        keys = {(self.products[i].season, self.products[i].amazon) for i in items}
        sums = dict.fromkeys(keys, 0.0)
        for d in range(days):
            date = start + dt.timedelta(days=d)
            doy = date.timetuple().tm_yday
            units = [self.channel_units(date, c) for c in range(len(CHANNELS))]
            for season, amazon in keys:
                k = units[SHOPIFY] + units[POS] + (units[AMAZON] if amazon else 0.0)
                sums[(season, amazon)] += SEASON_BY_DAY[season][doy] * k
        return [self.products[i].weight * MEAN_QTY[self.products[i].category]
                * sums[(self.products[i].season, self.products[i].amazon)] for i in items]

    def count_of(self, mean: float) -> int:
        """A Poisson-like count with this mean, from plain arithmetic (platform-independent)."""
        rnd = self.rng.random
        if mean <= 0:
            return 0
        if mean < 12:  # binomial with many trials
            trials = int(mean * 4) + 8
            p = mean / trials
            return sum(rnd() < p for _ in range(trials))
        spread = sum(rnd() for _ in range(12)) - 6.0  # Irwin-Hall: close to a standard normal
        return max(0, round(mean + spread * math.sqrt(mean)))

    # --- the days ----------------------------------------------------------------------------

    def run(self) -> None:
        for index in range(self.opts.days):
            day = make_day(index, self.opts.start + dt.timedelta(days=index), self.tz)
            self.j.start_day(day)
            self.draw_weights(day.date)
            self.sale_today = sale_days(day.date)
            actions: list[Action] = []
            self.plan_day(day, actions)
            actions.sort()
            for sec, _, method, args in actions:
                self.sec = sec
                method(day, *args)
        self.j.close()

    def draw_weights(self, date: dt.date) -> None:
        """Today's cumulative SKU weights per channel (season mix; Amazon lists no drinks)."""
        doy = date.timetuple().tm_yday
        self.cum_weights = []
        for c in range(len(CHANNELS)):
            total, cum = 0.0, []
            for p, row in zip(self.products, self.season_rows, strict=True):
                if c != AMAZON or p.amazon:
                    total += p.weight * row[doy]
                cum.append(total)
            self.cum_weights.append(cum)

    def plan_day(self, day: Day, actions: list[Action]) -> None:
        def at(sec: int, method: Callable[..., None], *args: Any) -> None:
            actions.append((sec, len(actions), method, args))

        date, rnd, hour = day.date, self.rng.random, 3600
        cycle = day.index % 365  # the once-a-year mishaps recur in long histories
        self.dup_receipt_due |= cycle == 60
        self.dup_sale_due |= cycle == 200
        self.cancel_due |= cycle == 150
        at(5 * hour, self.write_off_expired, MAIN)
        at(9 * hour + 2700, self.write_off_expired, STORE2)  # before the store opens
        if day.index == 0:
            at(5 * hour + 1800, self.opening_stock)  # before the first web order
        at(7 * hour + 1800, self.receive_arrivals)
        if day.index == 0 or date.weekday() == 1:
            at(9 * hour, self.replenish_store)
        for s in SUPPLIERS:
            if date.weekday() == s.review_weekday and day.index:
                at(9 * hour + 1800, self.place_order, s)
        for sec, method, args in self.later.pop(day.index, []):
            at(sec, method, *args)
        for ret in self.returns.pop(day.index, []):
            at(11 * hour + int(rnd() * 5 * hour), self.take_return, ret)
        for c in range(len(CHANNELS)):
            for _ in range(self.count_of(self.orders_expected(date, c))):
                at(store_order_second(rnd()) if c == POS else web_order_second(rnd()), self.sell_order, c)
        lines = self.opts.orders_per_day * MEAN_LINES
        for _ in range(self.count_of(lines * 0.0025)):
            at(10 * hour + int(rnd() * 8 * hour), self.damaged)
        for _ in range(self.count_of(lines * 0.0008)):
            at(10 * hour + int(rnd() * 8 * hour), self.found)
        if demand_boost(date, POS) and CHANNELS[POS].weekdays[date.weekday()]:
            for _ in range(self.count_of(lines * CHANNELS[POS].share * 0.004)):
                at(12 * hour + int(rnd() * 7 * hour), self.theft)
        if cycle in (45, 230):
            at(14 * hour, self.samples)
        if date.weekday() == 0 and date.day <= 7:
            at(20 * hour + 900, self.count, STORE2)  # first Monday of the month, after closing
        if date.month in (3, 6, 9, 12) and date.weekday() == 5 and date.day + 7 > _month_days(date):
            at(18 * hour, self.count, MAIN)  # last Saturday of the quarter

    # --- purchasing --------------------------------------------------------------------------

    def opening_stock(self, day: Day) -> None:
        for s in SUPPLIERS:
            items = self.by_supplier[s.id]
            needs = self.window_units(items, day.date, s.lead_time + 14)
            for i, need in zip(items, needs, strict=True):
                p = self.products[i]
                qty = max(p.pack, _round_up(math.ceil(need), p.pack))
                self.book_receipt(day, i, qty, p.cost, s, None, "opening stock")

    def place_order(self, day: Day, supplier: Supplier) -> None:
        """Weekly review: order up to the demand until the next delivery, plus safety stock."""
        items = self.by_supplier[supplier.id]
        cover_days = supplier.lead_time + 7
        lines: list[tuple[int, int]] = []
        for i, cover in zip(items, self.window_units(items, day.date, cover_days), strict=True):
            p = self.products[i]
            position = self.stock.qty[MAIN][i] + self.stock.qty[STORE2][i] + self.on_order[i]
            # Safety stock: days of demand for late deliveries, plus two standard deviations
            # of the demand itself (lumpy for drinks sold by the six-pack).
            target = cover * (1 + (6 if p.perishable else 10) / cover_days) + 2 * math.sqrt(cover * MEAN_QTY[p.category])
            if position < target - p.pack / 2:
                lines.append((i, _round_up(math.ceil(target - position), p.pack)))
        if not lines:
            return
        self.n.po += 1
        po = f"PO-{self.n.po:05d}"
        expected = day.date + dt.timedelta(days=supplier.lead_time)
        arrive = self.workday(day.index + supplier.lead_time + self.delivery_delay())
        for i, qty in lines:
            p = self.products[i]
            line = POLine(po, i, qty, self.cost_on(p, day.date), qty)
            self.j.event(self.sec, "ordered", sku=p.sku, qty=qty, loc="main", po=po, supplier=supplier.id,
                         cost=money(line.cost), expected=expected.isoformat(), by=BUYER)
            self.on_order[i] += qty
            self.schedule_delivery(line, arrive)

    def schedule_delivery(self, line: POLine, arrive: int) -> None:
        """Most lines come complete; one in ten comes in two parts, days apart."""
        pack = self.products[line.product].pack
        if line.qty >= 2 * pack and self.rng.random() < 0.1:
            first = _round_up(int(line.qty * (0.5 + 0.4 * self.rng.random())), pack)
            if first < line.qty:
                self.arrivals.setdefault(arrive, []).append(Arrival(line, first, partial=True))
                rest = self.workday(arrive + self.rng.randint(3, 10))
                self.arrivals.setdefault(rest, []).append(Arrival(line, line.qty - first))
                return
        self.arrivals.setdefault(arrive, []).append(Arrival(line, line.qty))

    def workday(self, index: int) -> int:
        """The day a delivery is taken in: the warehouse does not receive on Sundays."""
        return index + ((self.opts.start + dt.timedelta(days=index)).weekday() == 6)

    def delivery_delay(self) -> int:
        """Days after the promised date: mostly on time, sometimes a day early, often late."""
        r = self.rng.random()
        if r < 0.65:
            return 0
        if r < 0.75:
            return -1
        if r < 0.93:
            return self.rng.randint(1, 4)
        return self.rng.randint(5, 12)

    def cost_on(self, p: Product, date: dt.date) -> int:
        """Unit cost in cents: the supplier's price list goes up 3.5% every January."""
        return round(p.cost * (1 + 0.035 * (date.year - self.opts.start.year)))

    def receive_arrivals(self, day: Day) -> None:
        for arrival in self.arrivals.pop(day.index, []):
            line = arrival.line
            if line.cancelled:
                continue
            supplier = SUPPLIER[self.products[line.product].supplier]
            note = "partial delivery, rest to follow" if arrival.partial else None
            line.outstanding -= arrival.qty
            self.on_order[line.product] -= arrival.qty
            fields = self.book_receipt(day, line.product, arrival.qty, line.cost, supplier, line.po, note)
            if self.dup_receipt_due:
                self.dup_receipt_due = False
                self.enter_twice(day, "received", fields, "delivery note scanned twice")
        if self.cancel_due:
            self.cancel_a_line(day)

    def book_receipt(self, day: Day, i: int, qty: int, cost: int, supplier: Supplier,
                     po: str | None, note: str | None) -> dict[str, Any]:
        p = self.products[i]
        lot = expires = None
        lots: list[Lot] = []
        if p.perishable:
            made = day.date - dt.timedelta(days=self.rng.randint(2, 10))
            best_before = made + dt.timedelta(days=p.shelf_life)
            lot, expires = f"{supplier.lot_prefix}{made:%y%m%d}", best_before.isoformat()
            lots = [[best_before.toordinal(), lot, expires, qty]]
        fields = {"sku": p.sku, "qty": qty, "loc": "main", "po": po, "supplier": supplier.id,
                  "cost": money(cost), "lot": lot, "expires": expires, "by": WAREHOUSE, "note": note}
        self.j.event(self.sec, "received", **fields)
        self.stock.put(MAIN, i, qty, lots)
        return fields

    def cancel_a_line(self, day: Day) -> None:
        """Once a year the snack or drinks supplier cannot deliver a line: it is cancelled."""
        for when in sorted(self.arrivals):
            for arrival in self.arrivals[when]:
                line = arrival.line
                p = self.products[line.product]
                if p.perishable and not line.cancelled and line.outstanding == line.qty == arrival.qty:
                    self.cancel_due = False
                    line.cancelled = True
                    self.on_order[line.product] -= line.outstanding
                    self.j.event(self.sec, "cancelled", sku=p.sku, po=line.po, qty=line.outstanding, by=BUYER,
                                 note="supplier cannot deliver: recipe change")
                    line.outstanding = 0
                    return

    def enter_twice(self, day: Day, type_: str, fields: dict[str, Any], why: str) -> None:
        """A mistake and its correction: the same event entered again, voided the next morning."""
        duplicate = self.j.event(self.sec, type_, **fields)
        self.later.setdefault(day.index + 1, []).append((8 * 3600 + 300, self.void, (duplicate, why)))

    def void(self, day: Day, target: str, why: str) -> None:
        self.j.event(self.sec, "voided", target=target, reason=f"duplicate: {why}", by=BUYER)

    # --- the shelves -------------------------------------------------------------------------

    def replenish_store(self, day: Day) -> None:
        """Weekly transfer main -> store2: ten days of the store's sales and a safety margin."""
        for i, p in enumerate(self.products):
            ten_days = self.store_units(i, day.date) * 10
            target = max(2, math.ceil(ten_days + 2 * math.sqrt(ten_days * MEAN_QTY[p.category])))
            need = target - self.stock.qty[STORE2][i]
            if need <= 0 or need < target // 4:
                continue
            qty = min(need, self.stock.qty[MAIN][i] // 2)  # leave the web shop its share
            if qty <= 0:
                continue
            self.stock.put(STORE2, i, qty, self.stock.take(MAIN, i, qty))
            self.j.event(self.sec, "transferred", sku=p.sku, qty=qty, by=WAREHOUSE, **{"from": "main", "to": "store2"})

    def write_off_expired(self, day: Day, loc: int) -> None:
        """Lots past their best-before date come off the shelf the morning after."""
        today = day.date.toordinal()
        for i, p in enumerate(self.products):
            held = self.stock.lots[loc][i]
            while held and held[0][0] < today:
                _, lot, expires, _ = held[0]
                # A lot can sit in several pieces (each transfer brings one): write it off at once.
                qty = sum(piece[3] for piece in held if piece[1] == lot and piece[2] == expires)
                self.stock.take(loc, i, qty)
                self.j.event(self.sec, "adjusted", sku=p.sku, qty=-qty, loc=LOCATIONS[loc], reason="expired",
                             by=self.staff(loc), note=f"lot {lot} expired {expires}")

    def staff(self, loc: int) -> str:
        """Who records at a location now: the warehouse, or the store's shift."""
        return WAREHOUSE if loc == MAIN else STAFF_STORE[self.sec >= 15 * 3600]

    def sell_order(self, day: Day, channel: int) -> None:
        """One customer order of 1-3 lines; a line is cut to what is on hand (or lost)."""
        rnd = self.rng.random
        ch = CHANNELS[channel]
        self.n.orders[channel] += 1
        number = self.n.orders[channel]
        order = (f"SH-{100000 + number}", f"AMZ-{3020000 + number}", f"POS2-{number:06d}")[channel]
        # Most walk-ins stay anonymous; a customer's region is fixed (a hash of their number).
        known = 0 if channel == POS and rnd() < 0.6 else self.customer()
        customer = f"C-{known:05d}" if known else None
        if channel == POS:
            region, by = STORE_REGION, self.staff(STORE2)
        else:
            region, by = REGIONS[known * 2654435761 % 4093 % len(REGIONS)], STAFF_ONLINE[number & 1]
        who = f'"customer":"{customer}",' if customer else ""
        tail = f'"channel":"{ch.name}",{who}"region":"{region}","order":"{order}","by":"{by}"}}\n'
        on_hand = self.stock.qty[ch.loc]
        picks = self.rng.choices(self.items, cum_weights=self.cum_weights[channel], k=LINES_PER_ORDER[int(rnd() * 20)])
        for j, i in enumerate(picks):
            if i in picks[:j]:
                continue  # the same SKU drawn twice: one line
            p = self.products[i]
            qty = min(QTY_BY_CATEGORY[p.category][int(rnd() * 20)], on_hand[i])
            if qty <= 0:
                self.n.lost_lines += 1
                continue
            self.stock.take(ch.loc, i, qty)
            price = self.price(day.date, channel, p)
            id_, ts = self.j.stamp(self.sec)
            # The hot path: the line built directly, keys in invctl.events.KEY_ORDER (a test checks it).
            line = (f'{{"id":"{id_}","ts":"{ts}","type":"sold","sku":"{p.sku}","qty":{qty},'
                    f'"loc":"{LOCATIONS[ch.loc]}","price":"{money(price)}",' + tail)
            self.j.add(line)
            self.n.customer_events += 1
            if channel == POS and self.dup_sale_due:
                self.dup_sale_due = False
                duplicate, _ = self.j.stamp(self.sec)
                self.j.add(line.replace(id_, duplicate))
                self.later.setdefault(day.index + 1, []).append(
                    (9 * 3600 + 1500, self.void, (duplicate, "POS sale rung up twice")))
            self.maybe_return(day, i, qty, price, order, customer, channel)

    def price(self, date: dt.date, channel: int, p: Product) -> int:
        """Unit price in cents: Amazon lists goods a euro higher (fees); promotions round to 10 cents."""
        cents = p.price + (100 if channel == AMAZON and not p.perishable else 0)
        if not self.sale_today:
            return cents
        factor = price_factor(date, channel, p)
        return cents if factor == 1.0 else round(cents * factor / 10) * 10

    def customer(self) -> int:
        """A pseudonymous customer's number: a new one, one of the regulars, or anyone seen before."""
        n = self.n
        r = self.rng.random()
        if r < 0.55 or n.customers < 20:
            n.customers += 1
            number = n.customers
        elif r < 0.7:
            number = 1 + int(self.rng.random() * max(1, n.customers // 50))
        else:
            number = 1 + int(self.rng.random() * n.customers)
        return number

    def maybe_return(self, day: Day, i: int, qty: int, price: int, order: str, customer: str | None,
                     channel: int) -> None:
        p = self.products[i]
        rate = CHANNELS[channel].return_rate
        if p.perishable:
            rate = 0.004  # broken bottles and crushed boxes: refunded, not restocked
        elif p.category == "accessories":
            rate /= 2
        if self.rng.random() >= rate:
            return
        wait = self.rng.randint(1, 10) if channel == POS else self.rng.randint(3, 21)
        back = 1 if qty > 1 and self.rng.random() < 0.5 else qty
        ret = Returning(i, back, CHANNELS[channel].loc, price, order, customer, channel)
        self.returns.setdefault(day.index + wait, []).append(ret)

    def take_return(self, day: Day, ret: Returning) -> None:
        p = self.products[ret.product]
        restock = not p.perishable and self.rng.random() < 0.85
        note = None
        if not restock:
            note = "broken or leaking" if p.perishable else self.rng.choice(("worn, stained", "seam torn", "tags missing"))
        self.j.event(self.sec, "returned", sku=p.sku, qty=ret.qty, loc=LOCATIONS[ret.loc], refund=money(ret.refund),
                     restock=None if restock else False, order=ret.order, customer=ret.customer,
                     channel=CHANNELS[ret.channel].name, by=self.staff(ret.loc), note=note)
        self.n.customer_events += 1
        if restock:
            self.stock.put(ret.loc, ret.product, ret.qty)

    def damaged(self, day: Day) -> None:
        loc = MAIN if self.rng.random() < 0.8 else STORE2
        i = self.rng.randrange(len(self.products))
        if self.stock.qty[loc][i] <= 0:
            return
        p = self.products[i]
        self.stock.take(loc, i, 1)
        note = {"apparel": "stained in storage", "accessories": "crushed in transit",
                "snacks": "torn packaging", "drinks": "dented can, leaking"}[p.category]
        self.j.event(self.sec, "adjusted", sku=p.sku, qty=-1, loc=LOCATIONS[loc], reason="damaged",
                     by=self.staff(loc), note=note)

    def found(self, day: Day) -> None:
        i = self.rng.randrange(len(self.products))
        p = self.products[i]
        if p.perishable or not self.stock.seen[MAIN][i]:
            return  # perishables carry lots; a lot-less unit would not expire
        self.stock.put(MAIN, i, 1)
        self.j.event(self.sec, "adjusted", sku=p.sku, qty=1, loc="main", reason="found", by=WAREHOUSE,
                     note="found behind the shelf")

    def theft(self, day: Day) -> None:
        i = self.rng.randrange(len(self.products))
        p = self.products[i]
        if p.category not in ("apparel", "accessories") or self.stock.qty[STORE2][i] <= 0:
            return
        self.stock.take(STORE2, i, 1)
        self.j.event(self.sec, "adjusted", sku=p.sku, qty=-1, loc="store2", reason="theft", by=self.staff(STORE2),
                     note="security tag found in the fitting room")

    def samples(self, day: Day) -> None:
        for i, p in enumerate(self.products):
            if p.season in ("tee", "hoodie") and p.sku.endswith("-M") and self.stock.qty[MAIN][i] >= 5:
                self.stock.take(MAIN, i, 1)
                self.j.event(self.sec, "adjusted", sku=p.sku, qty=-1, loc="main", reason="sample", by=BUYER,
                             note="sample for the photo shoot")

    def count(self, day: Day, loc: int) -> None:
        """A stocktake of every SKU ever stocked there, with small variances."""
        for i, p in enumerate(self.products):
            if not self.stock.seen[loc][i]:
                continue
            have = self.stock.qty[loc][i]
            r = self.rng.random()
            diff = 0 if r < 0.86 else -1 if r < 0.95 else -2 if r < 0.98 else 1
            if p.perishable and diff > 0:
                diff = 0  # a surplus would be a lot-less layer; perishables always carry lots
            diff = max(diff, -have)
            if diff < 0:
                self.stock.take(loc, i, -diff)
            elif diff > 0:
                self.stock.put(loc, i, diff)
            self.j.event(self.sec, "counted", sku=p.sku, qty=have + diff, loc=LOCATIONS[loc], by=self.staff(loc))


def _round_up(qty: int, pack: int) -> int:
    return -(-qty // pack) * pack


def _month_days(date: dt.date) -> int:
    nxt = dt.date(date.year + date.month // 12, date.month % 12 + 1, 1)
    return (nxt - dt.timedelta(days=1)).day


# --- the ledger folder -------------------------------------------------------------------------


def write_settings(opts: Options) -> None:
    settings = Settings(currency="EUR", costing="fifo", timezone=TIMEZONE, locations=list(LOCATIONS))
    header = (f"# The example shop, made by examples/generate.py --seed {opts.seed} --start {opts.start} "
              f"--days {opts.days} --orders-per-day {opts.orders_per_day:g} --skus {opts.skus}\n")
    (opts.out / "invctl.toml").write_text(header + settings_text(settings), encoding="utf-8")
    (opts.out / ".gitattributes").write_text(GITATTRIBUTES, encoding="utf-8")
    (opts.out / ".gitignore").write_text(GITIGNORE, encoding="utf-8")


def write_catalog(opts: Options, shop: Shop) -> None:
    """items.toml and suppliers.toml, one table each, grouped with a comment per supplier."""
    items = ["# The catalog: one table per SKU (money as strings to keep its decimals exact).\n"
             "# Snacks and drinks are perishable: they are received in lots with a best-before date.\n"]
    for s in SUPPLIERS:
        indexes = shop.by_supplier[s.id]
        if not indexes:
            continue
        yearly = shop.window_units(indexes, opts.start, 365)
        items.append(f"\n# --- from {s.name} ({s.id}) ---\n")
        for i, units in zip(indexes, yearly, strict=True):
            p = shop.products[i]
            per_day = units / 365
            table = {"name": p.name, "unit": "pcs", "category": p.category, "price": money(p.price),
                     "cost": money(p.cost), "supplier": s.id,
                     "reorder_point": math.ceil(per_day * (s.lead_time + 7)),
                     "reorder_qty": max(p.pack, _round_up(math.ceil(per_day * 28), p.pack)), "pack_size": p.pack}
            items.append("\n" + tomli_w.dumps({p.sku: table}))
    (opts.out / "items.toml").write_text("".join(items), encoding="utf-8")
    suppliers = ["# Suppliers: one table per supplier id. `lead_time` is the promised days from order to receipt.\n"]
    for s in SUPPLIERS:
        suppliers.append("\n" + tomli_w.dumps({s.id: {"name": s.name, "lead_time": s.lead_time, "email": s.email}}))
    (opts.out / "suppliers.toml").write_text("".join(suppliers), encoding="utf-8")


def prepare_folder(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise SystemExit(f"generate.py: {out} is a file; give a folder for the example ledger")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise SystemExit(f"generate.py: {out} is not empty; pass --force to replace the ledger in it")
        # The journal is replaced as a whole (a shorter run must not leave old months behind);
        # the replay cache goes too, as it describes the old journal.
        for name in ("journal", ".invctl"):
            shutil.rmtree(out / name, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)


def generate(opts: Options) -> Journal:
    """Write the whole example ledger into ``opts.out`` (which must be empty or hold an old one)."""
    journal = Journal(opts.out, opts.seed)
    shop = Shop(opts, journal)
    write_settings(opts)
    write_catalog(opts, shop)
    shop.run()
    return journal


# Measured on the default shop: events per order of the --orders-per-day base (sale lines
# and returns, before growth and holidays) and per SKU and day (purchasing, transfers, counts).
EVENTS_PER_ORDER = 1.6
EVENTS_PER_SKU_DAY = 0.29
TRIAL_DAYS = 91


def orders_for(events: int, days: int, skus: int, start: dt.date, seed: int) -> float:
    """The orders per day that give about ``events`` events.

    A first guess from the rates above, corrected by a trial run of the first quarter
    (nothing written): customer events scale with orders and follow the seasons, the
    rest comes per SKU and day, at a rate that depends on each SKU's sales.
    """
    growth = 1 + GROWTH_PER_YEAR * days / 365 / 2  # on average over the history
    guess = max(1.0, (events / days - skus * EVENTS_PER_SKU_DAY) / (EVENTS_PER_ORDER * growth))
    trial_days = min(days, TRIAL_DAYS)
    shop = Shop(Options(Path(), seed, start, trial_days, guess, skus), Journal(None, seed))
    shop.run()
    customer = shop.n.customer_events
    other = shop.j.events - customer

    def demand(n_days: int) -> float:
        return sum(shop.orders_expected(start + dt.timedelta(days=d), c)
                   for d in range(n_days) for c in range(len(CHANNELS)))

    customer_full = customer * demand(days) / demand(trial_days)
    other_full = other * days / trial_days
    return max(1.0, round(guess * (events - other_full) / max(customer_full, 1.0), 2))


def parse_args(argv: list[str] | None) -> tuple[Options, bool]:
    ap = argparse.ArgumentParser(
        description="Generate a deterministic example invctl ledger (a clothing-and-snacks shop).",
        epilog="Example: python examples/generate.py --out /tmp/bench --events 1000000 --days 1100")
    ap.add_argument("--out", type=Path, required=True, help="the ledger folder to write")
    ap.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same bytes (default 1)")
    ap.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2025, 11, 1),
                    help="first day, YYYY-MM-DD (default 2025-11-01)")
    ap.add_argument("--days", type=int, default=365, help="days of history (default 365)")
    ap.add_argument("--orders-per-day", type=float, default=DEFAULT_ORDERS_PER_DAY,
                    help=f"average customer orders per day, all channels (default {DEFAULT_ORDERS_PER_DAY})")
    ap.add_argument("--skus", type=int, default=DEFAULT_SKUS, help=f"catalog size (default {DEFAULT_SKUS})")
    ap.add_argument("--events", type=int, help="aim for about this many events (sets --orders-per-day)")
    ap.add_argument("--force", action="store_true", help="replace the ledger in a non-empty --out folder")
    a = ap.parse_args(argv)
    if a.days < 1 or a.skus < 1 or a.orders_per_day <= 0 or (a.events is not None and a.events < 1):
        ap.error("--days, --skus, --orders-per-day and --events must be positive")
    orders = orders_for(a.events, a.days, a.skus, a.start, a.seed) if a.events else a.orders_per_day
    return Options(a.out, a.seed, a.start, a.days, orders, a.skus), a.force


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    opts, force = parse_args(argv)  # with --events this includes a trial run
    prepare_folder(opts.out, force)
    journal = generate(opts)
    seconds = time.perf_counter() - started
    files = f"{journal.files} journal file{'s' if journal.files != 1 else ''}"
    print(f"wrote {journal.events} events in {files} to {opts.out} "
          f"({opts.days} days, {opts.skus} SKUs, {opts.orders_per_day:g} orders/day) in {seconds:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
