"""Iran's provinces as addresses name them (shared by the checkout and the sellers' shipping
prices)."""

from __future__ import annotations

# Iran's 31 provinces as (Persian, English). Orders store the Persian name, as addresses are written.
PROVINCES: tuple[tuple[str, str], ...] = (
    ("آذربایجان شرقی", "East Azerbaijan"),
    ("آذربایجان غربی", "West Azerbaijan"),
    ("اردبیل", "Ardabil"),
    ("اصفهان", "Isfahan"),
    ("البرز", "Alborz"),
    ("ایلام", "Ilam"),
    ("بوشهر", "Bushehr"),
    ("تهران", "Tehran"),
    ("چهارمحال و بختیاری", "Chaharmahal and Bakhtiari"),
    ("خراسان جنوبی", "South Khorasan"),
    ("خراسان رضوی", "Razavi Khorasan"),
    ("خراسان شمالی", "North Khorasan"),
    ("خوزستان", "Khuzestan"),
    ("زنجان", "Zanjan"),
    ("سمنان", "Semnan"),
    ("سیستان و بلوچستان", "Sistan and Baluchestan"),
    ("فارس", "Fars"),
    ("قزوین", "Qazvin"),
    ("قم", "Qom"),
    ("کردستان", "Kurdistan"),
    ("کرمان", "Kerman"),
    ("کرمانشاه", "Kermanshah"),
    ("کهگیلویه و بویراحمد", "Kohgiluyeh and Boyer-Ahmad"),
    ("گلستان", "Golestan"),
    ("گیلان", "Gilan"),
    ("لرستان", "Lorestan"),
    ("مازندران", "Mazandaran"),
    ("مرکزی", "Markazi"),
    ("هرمزگان", "Hormozgan"),
    ("همدان", "Hamadan"),
    ("یزد", "Yazd"),
)
