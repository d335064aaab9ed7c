"""Roster columns that look like they identify a person, which trialflow refuses to read.

trialflow never needs a name, initials, date of birth, address, phone number, e-mail or
medical record number; such a column in ``participants.csv`` would travel into the
validated data (and, through any table listing roster columns, into a publication). A
column whose name looks identifying is an input error unless the study lists it under
``allow_columns:``. The test is on the column name, split into words (``patientName``,
``patient_name`` and ``Patient Name`` are all ``patient``, ``name``).
"""

from __future__ import annotations

import re

__all__ = ["identifying_reason"]

# Words that make a column a name only when nothing says it names something else.
_NOT_A_PERSON = {
    "site",
    "centre",
    "center",
    "drug",
    "study",
    "arm",
    "group",
    "device",
    "hospital",
    "clinic",
    "product",
    "brand",
    "file",
    "test",
    "variable",
    "visit",
    "instrument",
    "scale",
    "country",
}
_NAME_WORDS = {"name", "firstname", "lastname", "surname", "forename", "fullname", "givenname"}
_JOINED_NAMES = ("firstname", "lastname", "surname", "fullname", "patientname", "givenname")
_JOINED = {
    "a date of birth": ("dateofbirth", "birthdate", "birthday"),
    "an e-mail address": ("email",),
    "an address": ("streetaddress", "postcode", "postalcode", "zipcode", "homeaddress"),
    "a phone number": ("phonenumber", "telephone", "mobilephone", "cellphone"),
    "a medical record number": (
        "medicalrecord",
        "hospitalnumber",
        "nhsnumber",
        "socialsecurity",
        "patientrecord",
    ),
}
_WORDS = {
    "initials": "initials",
    "dob": "a date of birth",
    "address": "an address",
    "street": "an address",
    "postcode": "an address",
    "zip": "an address",
    "phone": "a phone number",
    "telephone": "a phone number",
    "mobile": "a phone number",
    "fax": "a phone number",
    "email": "an e-mail address",
    "mrn": "a medical record number",
    "nhs": "a medical record number",
    "ssn": "a medical record number",
    "passport": "a medical record number",
}


def _words(column: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", column)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def identifying_reason(column: str) -> str | None:
    """What a column's name suggests it holds, if that identifies a person, else None.

    Examples
    --------
    >>> identifying_reason("patient_name"), identifying_reason("DOB"), identifying_reason("age")
    ('a name', 'a date of birth', None)
    >>> identifying_reason("site_name") is None
    True
    """
    words = _words(column)
    joined = "".join(words)
    for reason, parts in _JOINED.items():
        if any(part in joined for part in parts):
            return reason
    for word in words:
        if word in _WORDS:
            return _WORDS[word]
    named = set(words) & _NAME_WORDS or any(part in joined for part in _JOINED_NAMES)
    of_a_thing = set(words) & _NOT_A_PERSON and not set(words) & {"patient", "participant"}
    return "a name" if named and not of_a_thing else None
