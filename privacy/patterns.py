"""Personal data with a format: found by pattern, then checked, never taken on looks alone.

Each `find_*` returns the spans of one kind in a text:

- e-mail addresses;
- phone numbers in international (+44 7700 900123) and local formats ((415) 555-0132,
  07700 900123, 06 12 34 56 78), parsed by `phonenumbers` for a possible number in one
  of `PHONE_REGIONS`;
- payment card numbers: 13–19 digits with an issuer's prefix (Visa, Mastercard with its
  2-series, Amex, Discover, JCB, …) that pass the Luhn check;
- IBANs whose check digits are right (`stdnum.iban`);
- US Social Security numbers (`stdnum.us.ssn`: no 000, 666 or 9xx area) and UK National
  Insurance numbers (HMRC's letter rules);
- IPv4 and IPv6 addresses (`ipaddress`);
- dates of birth: a date after words that say it is one ("born", "DOB", "date of birth").

What looks like them and is not personal data stays: order numbers (10234,
BB-2024-118842), tracking codes (1Z999AA10123456784, 9400 1000 0000 …), timestamps
("2026-11-18 14:32:05", 1764000000), amounts, a card's last four digits, 16-digit
gift-card or reference numbers that fail the Luhn check, dates that are not birthdays.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum.us import ssn as stdnum_ssn

from core.constants import (
    PII_ADDRESS,
    PII_CARD,
    PII_DOB,
    PII_EMAIL,
    PII_IBAN,
    PII_IP,
    PII_NATIONAL_ID,
    PII_PHONE,
)
from privacy.redacted import Span

EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)

# Digits with the separators people put between them; a leading + or (area code).
PHONE_CANDIDATE = re.compile(
    r"(?<![\w+/.:-])(?:\+|00)?\(?\d[\d\s()./-]{5,20}\d(?![\w/])(?!\.\d)(?!:\d)"
)
# Words that say a number is a phone number, shortly before it.
PHONE_CONTEXT = re.compile(
    r"\b(?:phone|tel|telephone|call|ring|mobile|cell|cellphone|landline|number|no|num|"
    r"txt|text|sms|whatsapp|contact|reach|handy|telefon|téléphone|portable|numéro|"
    r"teléfono|telefone|celular|móvil|numer|cellulare)\b",
    re.IGNORECASE,
)
PHONE_CONTEXT_WINDOW = 30
COUNTRY_CODE_THEN_AREA = re.compile(r"(?:\+|00)\d{1,3}\s*\(")  # +1 (555) 010-4477
DOTTED_PHONE = re.compile(r"\(?\d{3}\)?\.\d{3}\.\d{4}")  # 813.555.0197
PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "IN", "AU", "BR", "NG", "PL", "JP", "CA")
MIN_PHONE_DIGITS = 7
MAX_PHONE_DIGITS = 15
# A candidate with these shapes is a date, a time or an ISO timestamp, not a phone.
DATE_OR_TIME = re.compile(
    r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$|^\d{1,2}:\d{2}"
)

CARD_CANDIDATE = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# Issuer prefixes (IIN ranges) of the cards people type.
CARD_PREFIX = re.compile(
    r"^(?:4\d{12}(?:\d{3}){0,2}"  # Visa
    r"|5[1-5]\d{14}|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)\d{12}"  # Mastercard
    r"|3[47]\d{13}"  # American Express
    r"|6(?:011|5\d\d|4[4-9]\d)\d{12,15}"  # Discover
    r"|35(?:2[89]|[3-8]\d)\d{12,15}"  # JCB
    r"|3(?:0[0-5]|[68]\d)\d{11}"  # Diners Club
    r"|(?:5018|5020|5038|6304|6759|676[1-3])\d{8,15})$"  # Maestro
)

IBAN_CANDIDATE = re.compile(
    r"(?<![\w])[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,30}(?![\w])", re.IGNORECASE
)

SSN = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])")
SSN_PLAIN = re.compile(r"(?<![\w-])\d{9}(?![\w-])")
SSN_CONTEXT = re.compile(
    r"\b(?:ssn|social security|social-security|id number|national id|tax id)\b", re.IGNORECASE
)
# UK National Insurance number: two letters (not D, F, I, Q, U, V; the second not O; not
# the prefixes BG, GB, KN, NK, NT, TN, ZZ), six digits, a suffix A-D.
NINO = re.compile(
    r"(?<![\w])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"[ ]?\d{2}[ ]?\d{2}[ ]?\d{2}[ ]?[A-D](?![\w])",
    re.IGNORECASE,
)

IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")

MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
DATE = re.compile(
    r"(?<![\w/.-])(?:"
    r"\d{4}-\d{1,2}-\d{1,2}"  # 1990-07-02
    r"|\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"  # 14/03/1987, 03.14.87
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}\s*,?\s*\d{{4}}"  # 3 March 1979
    rf"|{MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\s*,?\s*\d{{4}}"  # March 3, 1979
    r")(?![\w/])",
    re.IGNORECASE,
)
DOB_CONTEXT = re.compile(
    r"\b(?:born|birth|birthday|dob|d\.o\.b\.?|b-day|geboren|geburtsdatum|né|née|naissance|"
    r"nac[ií]|nacid[oa]|nacimiento|nasci|nascid[oa]|nascimento|nat[oa]|nascita|"
    r"urodzon[ya]|urodzenia)\b",
    re.IGNORECASE,
)
DOB_WINDOW = 40  # characters between the words and the date

# A street address in the English-speaking world's shape: a house number, capitalised
# street words and a street type, then a unit, a town and a postcode when they follow.
# A backstop to the name and address model, which finds the other shapes.
STREET_TYPES = (
    r"(?:Street|St|Road|Rd|Lane|Ln|Avenue|Ave|Av|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|"
    r"Place|Pl|Terrace|Tce|Crescent|Cres|Close|Square|Sq|Parkway|Pkwy|Highway|Hwy|Row|"
    r"Gardens|Grove|Mews|Walk|Circle|Cir|Trail|Trl|Alley|Broadway|Esplanade|Parade)"
)
STREET_ADDRESS = re.compile(
    r"(?<![\w-])\d{1,5}[A-Za-z]?(?:[-/]\d{1,5}[A-Za-z]?)?,?\s+"
    r"(?:(?:[NSEW]\.?\s+)?(?:[A-Z][\w'’.-]*|\d{1,3}(?:st|nd|rd|th))\s+){1,4}"
    + STREET_TYPES
    + r"\b\.?"
    r"(?:,?\s+(?:Apt|Apartment|Unit|Suite|Ste|Flat|Floor|Fl|#)\.?\s*[\w-]{1,6})?"
    r"(?:,\s*[A-Z][a-z'’.-]+(?:\s+[A-Z][a-z'’.-]+){0,3})?"  # the town
    r"(?:,?\s+(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?"  # US state and ZIP
    r"|[A-Z]{2}\s+[A-Z]\d[A-Z]\s?\d[A-Z]\d"  # Canadian province and postcode
    r"|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"  # UK postcode
    r"|[A-Z]{2,3}\s+\d{4}|\d{4,5}))?"  # Australian state and postcode, or a bare one
)


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def luhn(number: str) -> bool:
    total = 0
    for index, ch in enumerate(reversed(number)):
        value = int(ch)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def iban_checks(value: str) -> bool:
    """The IBAN's own check digits (mod 97) are right. A country's inner check digits are
    not required: for redaction, a mistyped bank code is still someone's account."""
    try:
        stdnum_iban.validate(value, check_country=False)
    except Exception:  # stdnum's ValidationError and its kinds
        return False
    return True


def find_emails(text: str) -> Iterator[Span]:
    for found in EMAIL.finditer(text):
        yield Span(found.start(), found.end(), PII_EMAIL)


def find_cards(text: str) -> Iterator[Span]:
    for found in CARD_CANDIDATE.finditer(text):
        number = digits(found.group())
        if CARD_PREFIX.match(number) and luhn(number):
            yield Span(found.start(), found.end(), PII_CARD)


def find_ibans(text: str) -> Iterator[Span]:
    for found in IBAN_CANDIDATE.finditer(text):
        value = found.group().upper()
        # Trailing groups may be ordinary words ("… 3000 thanks"): shorten to the
        # longest valid prefix.
        for end in range(len(value), 14, -1):
            if value[end - 1].isalnum() and iban_checks(value[:end]):
                yield Span(found.start(), found.start() + end, PII_IBAN)
                break


def find_national_ids(text: str) -> Iterator[Span]:
    for found in SSN.finditer(text):
        if stdnum_ssn.is_valid(found.group(1) + found.group(3) + found.group(4)):
            yield Span(found.start(), found.end(), PII_NATIONAL_ID)
    if SSN_CONTEXT.search(text):
        for found in SSN_PLAIN.finditer(text):
            if stdnum_ssn.is_valid(found.group()):
                yield Span(found.start(), found.end(), PII_NATIONAL_ID)
    for found in NINO.finditer(text):
        yield Span(found.start(), found.end(), PII_NATIONAL_ID)


def find_ips(text: str) -> Iterator[Span]:
    for found in IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(found.group())
        except ValueError:
            continue
        yield Span(found.start(), found.end(), PII_IP)
    for found in IPV6.finditer(text):
        value = found.group()
        if value.count(":") < 2 or (not any(c.isalpha() for c in value) and "::" not in value):
            continue  # "14:32:05" is a time
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            continue
        yield Span(found.start(), found.end(), PII_IP)


def find_phones(text: str) -> Iterator[Span]:
    for found in PHONE_CANDIDATE.finditer(text):
        start, end = found.span()
        value = found.group()
        # Trim what the pattern swallowed around the number: an unmatched bracket, a dot.
        while value and value[-1] in " .-(":
            value, end = value[:-1], end - 1
        if value.endswith(")") and value.count("(") < value.count(")"):
            value, end = value[:-1], end - 1
        if value.startswith("(") and ")" not in value:
            value, start = value[1:], start + 1
        number = digits(value)
        if not MIN_PHONE_DIGITS <= len(number) <= MAX_PHONE_DIGITS:
            continue
        bracketed_after_digits = re.search(r"\d\s*\(", value) and not COUNTRY_CODE_THEN_AREA.match(
            value
        )
        if value.count("(") != value.count(")") or bracketed_after_digits:
            continue  # "10234 (12-inch …": a number, then something in brackets
        if DATE_OR_TIME.match(value.strip()):
            continue
        international = value.startswith(("+", "00"))
        if "." in value and not (international or DOTTED_PHONE.fullmatch(value)):
            continue  # a version (131.0.6778.86), an IP address, an amount
        said = PHONE_CONTEXT.search(text, max(0, start - PHONE_CONTEXT_WINDOW), start)
        separated = any(ch in value for ch in " ()-/")
        if not (international or said):
            if len(number) <= 8 and "(" not in value:
                continue  # a postcode (160-0023, 80020-310), a reference
            national = number[0] == "0" and len(number) in (10, 11)  # 0639989632
            nanp = len(number) == 10 and "2" <= number[0] <= "9"  # 9195550103
            if not separated and not (national or nanp):
                continue  # a bare run (a timestamp 1764000000, a reference)
        if possible_phone(value):
            yield Span(start, end, PII_PHONE)


def possible_phone(value: str) -> bool:
    """Whether `value` is a possible phone number, international or in a local format of
    one of PHONE_REGIONS."""
    international = value.startswith(("+", "00"))
    regions = (None,) if international else PHONE_REGIONS
    for region in regions:
        try:
            parsed = phonenumbers.parse(
                "+" + value[2:] if value.startswith("00") else value, region
            )
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(parsed):
            return True
    return False


def find_birth_dates(text: str) -> Iterator[Span]:
    for context in DOB_CONTEXT.finditer(text):
        window = text[context.end() : context.end() + DOB_WINDOW + 30]
        found = DATE.search(window)
        if found is not None and found.start() <= DOB_WINDOW:
            start = context.end() + found.start()
            yield Span(start, start + len(found.group()), PII_DOB)


def find_street_addresses(text: str) -> Iterator[Span]:
    for found in STREET_ADDRESS.finditer(text):
        yield Span(found.start(), found.end(), PII_ADDRESS)


FINDERS = (
    find_cards,
    find_ibans,
    find_emails,
    find_national_ids,
    find_ips,
    find_birth_dates,
    find_phones,
    find_street_addresses,
)


def find_all(text: str) -> list[Span]:
    """Every formatted kind's spans in `text`, overlapping ones included."""
    return [span for finder in FINDERS for span in finder(text)]
