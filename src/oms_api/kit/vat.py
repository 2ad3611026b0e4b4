"""VAT identification numbers: one way to check and normalise them (python-stdnum), for customers, legal entities
and the documents that print them."""

from __future__ import annotations

from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat

_NON_EU = {"GB": gb_vat, "XI": gb_vat}


def normalise_vat_id(value: str) -> str:
    """``value`` compacted with its country prefix (``DE 136 695 976`` -> ``DE136695976``) when its check digits and
    format are valid for that country (EU member states, the UK), else ``ValueError`` saying why."""
    compact = "".join(value.split()).replace("-", "").replace(".", "").upper()
    prefix = compact[:2]
    try:
        if prefix in _NON_EU:
            return prefix + str(_NON_EU[prefix].validate(compact[2:]))
        return str(eu_vat.validate(compact))
    except stdnum_errors.InvalidComponent as exc:
        raise ValueError(f"{value!r} is not a VAT id of a known country (EU member state or GB)") from exc
    except stdnum_errors.ValidationError as exc:
        raise ValueError(f"{value!r} is not a valid VAT id: {exc}") from exc


def country_of(vat_id: str) -> str:
    """The ISO 3166 country of a normalised VAT id (Greece's ``EL`` is ``GR``; Northern Ireland's ``XI`` is ``GB``)."""
    prefix = vat_id[:2]
    return {"EL": "GR", "XI": "GB"}.get(prefix, prefix)
