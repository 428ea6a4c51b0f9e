"""Varied, deterministic sample data for previews, the benchmark and the tests.

Names and addresses mix scripts (Latin with accents, Devanagari, Greek, Cyrillic) and lengths
up to the model's limits; tracking numbers include the ASCII that ZPL treats specially.
"""

from __future__ import annotations

import datetime as dt
import random
import string

from labels.gs1 import check_digit
from labels.model import (
    Address,
    LabelData,
    Manifest,
    ManifestParcel,
    Money,
    OrderLine,
    PickLine,
    PickList,
)

FC = Address(
    name="tote FC Bengaluru North",
    line1="Plot 14, KIADB Industrial Area, Doddaballapur",
    city="Bengaluru",
    region="Karnataka",
    postal_code="562149",
    country="India",
    phone="+91 80 4000 1234",
)
NAMES = [
    "अनन्या शर्मा",
    "राहुल कुमार वर्मा",
    "श्रीमती क्षमा त्रिपाठी",
    "Ananya Sharma",
    "José Álvarez",
    "Zoë Müller-Lüdenscheidt",
    "Ελένη Παπαδοπούλου",
    "Дмитрий Иванов",
    "O'Brien & Sons Ltd.",
    "Dr. Maximiliano Alejandro Fernández-Castellanos de la Vega y Montenegro",
    "Priya (c/o Reception)",
    "Nguyễn Thị Minh Khai",
    "Ægir Þórsson",
    "Li Wei",
]
STREETS = [
    "12th Main Road, Indiranagar",
    "फ्लैट 4बी, श्री साई अपार्टमेंट, एमजी रोड",
    "Calle de Alcalá 42",
    "Flat 4B",
    "221B Baker Street",
    "Unit 7, Phase II, Electronics City Industrial Estate",
    "ул. Тверская, д. 7, кв. 12",
    "Οδός Ερμού 15",
]
CITIES = [
    ("Bengaluru", "Karnataka", "560038", "India"),
    ("मुंबई", "महाराष्ट्र", "400001", "India"),
    ("Madrid", "", "28014", "Spain"),
    ("London", "", "NW1 6XE", "United Kingdom"),
    ("Москва", "", "125009", "Russia"),
    ("Αθήνα", "", "105 63", "Greece"),
    ("New Delhi", "Delhi", "110001", "India"),
]
CURRENCIES = ["INR", "INR", "INR", "USD", "EUR", "JPY", "KWD"]
CARRIERS = [
    ("BlueDart", "Express"),
    ("Delhivery", "Surface COD"),
    ("India Post", "Speed Post"),
    ("DHL", "Express Worldwide 12:00"),
]
_TRACKING_CHARS = string.ascii_uppercase + string.digits


def _address_line(rnd: random.Random, length: int) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < length:
        words.append(rnd.choice(STREETS))
    return ", ".join(words)[:length].rstrip(", ") or "1"


def tracking_number(rnd: random.Random, i: int) -> str:
    """A tracking number in one of several carriers' shapes, some with ZPL-special ASCII."""
    kind = i % 5
    if kind == 0:
        return "1Z" + "".join(rnd.choices(_TRACKING_CHARS, k=16))
    if kind == 1:
        return "".join(rnd.choices(string.digits, k=rnd.randint(10, 22)))
    if kind == 2:
        return f"TT-{i:04d}/{rnd.randint(0, 99999):05d}.x"
    if kind == 3:
        return "".join(rnd.choices(_TRACKING_CHARS + "-", k=rnd.randint(8, 16))) + "Z"
    return f"T^{i}~_>{rnd.randint(100, 999)}<a+b"


def label_data(i: int, seed: int = 3) -> LabelData:
    """The i-th sample parcel."""
    rnd = random.Random(seed * 100_003 + i)
    city, region, postal, country = rnd.choice(CITIES)
    line1_len = rnd.choice([8, 25, 60, 120, 150, 200])
    name = rnd.choice(NAMES)
    if i % 7 == 3:
        name = (name + " ") * 6
    to = Address(
        name=name[:100].strip(),
        line1=_address_line(rnd, line1_len),
        line2=rnd.choice(["", "Near City Hospital", "दूसरी मंज़िल", "Building C, 3rd floor"]),
        city=city,
        region=region,
        postal_code=postal,
        country=country,
        phone=rnd.choice(["", "+91 98450 12345", "+44 20 7946 0958"]),
    )
    currency = rnd.choice(CURRENCIES)
    lines = tuple(
        OrderLine(
            sku=f"SKU-{rnd.randint(1000, 9999)}",
            quantity=rnd.randint(1, 5),
            description=rnd.choice(
                [
                    "Steel water bottle 1 L",
                    "सूती कुर्ता (नीला)",
                    "USB-C cable, 2 m",
                    "Notebook A5 ruled",
                ]
            ),
            unit_price=Money(rnd.randint(100, 500_000), currency),
        )
        for _ in range(rnd.randint(1, 6))
    )
    total = sum(ln.unit_price.amount_minor * ln.quantity for ln in lines if ln.unit_price)
    carrier, service = rnd.choice(CARRIERS)
    return LabelData(
        tracking_number=tracking_number(rnd, i),
        order_id=f"ORD-2026-{i:06d}",
        carrier=carrier,
        service=service,
        weight_grams=rnd.choice([1, 80, 999, 1250, 23_456, 70_000]),
        ship_from=FC,
        ship_to=to,
        ship_date=dt.date(2026, 11, 1) + dt.timedelta(days=i % 28),
        sort_code=rnd.choice(["", "BLR-07", "DEL/2"]),
        cod=Money(total, currency) if i % 3 == 0 else None,
        lines=lines,
        order_total=Money(total, currency),
    )


def gtin(rnd: random.Random, length: int) -> str:
    """A random GTIN of `length` digits with its check digit."""
    body = "".join(rnd.choices(string.digits, k=length - 1))
    if length == 12 and body[0] == "0":
        body = "1" + body[1:]  # keep UPC-A distinct from an EAN-13 that starts with 0
    return body + str(check_digit(body))


def pick_list(n_lines: int = 12, seed: int = 5) -> PickList:
    """A sample pick list with GTIN-8/12/13/14 items in shuffled bins."""
    rnd = random.Random(seed)
    lines = tuple(
        PickLine(
            bin=f"{rnd.choice('ABC')}-{rnd.randint(1, 12)}-{rnd.randint(1, 30)}",
            sku=f"SKU-{rnd.randint(1000, 9999)}",
            gtin=gtin(rnd, rnd.choice([8, 12, 13, 14])),
            quantity=rnd.randint(1, 9),
            order_id=f"ORD-2026-{rnd.randint(1, 999):06d}",
            description=rnd.choice(["Steel water bottle 1 L", "सूती कुर्ता (नीला)", "Tea 500 g"]),
        )
        for _ in range(n_lines)
    )
    return PickList(
        pick_list_id=f"PT-{seed:05d}",
        fc_id="BLR-N",
        created=dt.datetime(2026, 11, 25, 9, 30),
        lines=lines,
    )


def manifest(n_parcels: int = 30, seed: int = 9) -> Manifest:
    """A sample carrier manifest built from sample parcels."""
    parcels = []
    for i in range(n_parcels):
        d = label_data(i, seed)
        assert d.weight_grams is not None  # a sample label is always weighed
        parcels.append(
            ManifestParcel(
                d.tracking_number,
                d.order_id,
                f"{d.ship_to.city} {d.ship_to.postal_code}",
                d.weight_grams,
                d.cod,
            )
        )
    return Manifest(
        manifest_id=f"MF-{seed:06d}",
        carrier="BlueDart",
        ship_from=FC,
        handed_over=dt.datetime(2026, 11, 25, 17, 45),
        parcels=tuple(parcels),
    )
