"""Country names as the Ministry of Foreign Affairs writes them, in Vietnamese and English.

Every page, export and letter that turns an ISO 3166 code into a name calls `country_name`;
every select of countries or nationalities uses `country_choices`. Names come from Babel
(CLDR), with the overrides below where the Ministry's official naming differs (Taiwan, Hong
Kong and Macao are parts of China; the Russian Federation; the Czech Republic; ...). The lists
leave out what is not a nationality: uninhabited territories, groupings (EU, UN) and the
pseudo-regions of CLDR. A page never shows a bare ISO code for a code Babel knows.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

from babel import Locale, UnknownLocaleError

LANGUAGES = ("vi", "en")
FALLBACK_LANGUAGE = "en"

# code -> {language: name}. Checked against the Ministry's naming; where Babel already says
# the same (Hàn Quốc, Triều Tiên, Hoa Kỳ, Vương quốc Anh, Lào, Campuchia, Thổ Nhĩ Kỳ) it is kept.
OVERRIDES: dict[str, dict[str, str]] = {
    "TW": {"vi": "Đài Loan (Trung Quốc)", "en": "Taiwan (China)"},
    "HK": {"vi": "Hồng Kông (Trung Quốc)", "en": "Hong Kong (China)"},
    "MO": {"vi": "Ma Cao (Trung Quốc)", "en": "Macao (China)"},
    "RU": {"vi": "Liên bang Nga", "en": "Russian Federation"},
    "CZ": {"vi": "Cộng hòa Séc", "en": "Czech Republic"},
    "KR": {"vi": "Hàn Quốc", "en": "Republic of Korea"},
    "KP": {"vi": "Triều Tiên", "en": "Democratic People's Republic of Korea"},
    "PS": {"vi": "Palestine", "en": "Palestine"},  # Viet Nam recognises the State of Palestine
    "CD": {"vi": "Cộng hòa Dân chủ Congo", "en": "Democratic Republic of the Congo"},
    "CG": {"vi": "Cộng hòa Congo", "en": "Republic of the Congo"},
    "MM": {"vi": "Myanmar", "en": "Myanmar"},
    "VA": {"vi": "Tòa Thánh Vatican", "en": "Holy See (Vatican)"},
    "KN": {"vi": "Saint Kitts và Nevis", "en": "Saint Kitts and Nevis"},
    "LC": {"vi": "Saint Lucia", "en": "Saint Lucia"},
    "VC": {"vi": "Saint Vincent và Grenadines", "en": "Saint Vincent and the Grenadines"},
}

# Not a nationality: uninhabited or only military-inhabited territories, parts of another
# country that CLDR lists apart, groupings, pseudo-regions; Kosovo, which Viet Nam does not
# recognise as a state. country_name still names them (old data), the lists leave them out.
EXCLUDED = frozenset({
    "AQ", "BV", "HM", "TF", "GS", "UM", "IO", "CP", "DG",  # uninhabited / military only
    "EA", "IC", "AC", "TA",  # Ceuta & Melilla, Canary Islands (Spain); Ascension, Tristan da Cunha (St Helena)
    "XK",  # Kosovo
    "QO", "EU", "EZ", "UN", "ZZ", "XA", "XB",  # groupings, unknown region, pseudo-locales
})


def _language(locale) -> str:
    try:
        language = Locale.parse(str(locale).replace("-", "_")).language
    except (ValueError, TypeError, UnknownLocaleError):
        return FALLBACK_LANGUAGE
    return language if language in LANGUAGES else FALLBACK_LANGUAGE


@lru_cache(maxsize=None)
def _territories(language: str) -> dict[str, str]:
    return dict(Locale.parse(language).territories)


def country_name(code: str | None, locale) -> str:
    """The name of an ISO 3166 alpha-2 code in the locale's language ("" for no code).

    Never the bare code for a code Babel knows: without a name in the language, the English
    name; only an unknown code comes back as it is.
    """
    if not code:
        return ""
    code = code.strip().upper()
    language = _language(locale)
    override = OVERRIDES.get(code)
    if override:
        return override.get(language) or override[FALLBACK_LANGUAGE]
    return _territories(language).get(code) or _territories(FALLBACK_LANGUAGE).get(code) or code


def collation_key(name: str) -> tuple[str, str]:
    """Sorts names as a reader looks them up: letters without their diacritics first ("Ấn Độ"
    among the A's, "Đức" among the D's), then the full name to order the ties."""
    folded = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    primary = "".join(char for char in folded if not unicodedata.combining(char))
    return primary.casefold(), unicodedata.normalize("NFC", name).casefold()


def _is_country(code: str) -> bool:
    return len(code) == 2 and code.isascii() and code.isalpha() and code.isupper() and code not in EXCLUDED


@lru_cache(maxsize=None)
def _choices(language: str) -> tuple[tuple[str, str], ...]:
    codes = [code for code in _territories(FALLBACK_LANGUAGE) if _is_country(code)]
    named = [(code, country_name(code, language)) for code in codes]
    return tuple(sorted(named, key=lambda pair: (*collation_key(pair[1]), pair[0])))


def country_choices(locale) -> list[tuple[str, str]]:
    """Every country or inhabited territory a journalist or an outlet can belong to, as
    (code, name) in the locale's language, in that language's alphabetical order."""
    return list(_choices(_language(locale)))
