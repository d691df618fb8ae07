"""The loan tape: ESMA-style headers, formatting, and No-Data codes where a value is unknown."""
from datetime import date
from decimal import Decimal

from greenfin.pools.tape import ND_CODES, TAPE_FIELDS, loan_tape_csv, read_loan_tape


def record(**overrides):
    data = {"pool_code": "GFP-1", "loan_ref": "L0001", "obligor_ref": "P7", "cut_off_date": date(2026, 10, 31),
            "pool_addition_date": date(2026, 9, 1), "township": "361103-danan", "sector": "pomelo",
            "product": "orchard", "origination_date": date(2025, 3, 2), "maturity_date": date(2028, 3, 2),
            "original_term": 36, "remaining_term": 17, "currency": "CNY", "original_balance": Decimal("300000"),
            "balance": Decimal("151234.5"), "amortisation": "annuity", "rate": Decimal("0.0435"), "dpd": 0,
            "status": "performing", "collateral_type": "land_contract", "collateral_value": Decimal("500000"),
            "ltv": Decimal("0.302469"), "green_category": "sustainable_agriculture", "colour": "green",
            "collateral_gep": Decimal("1200000")}
    data.update(overrides)
    return data


def test_tape_headers_follow_esma_wording():
    text = loan_tape_csv([])
    header = text.splitlines()[0].split(",")
    assert header[:7] == ["Unique Identifier", "Original Underlying Exposure Identifier",
                          "New Underlying Exposure Identifier", "Original Obligor Identifier",
                          "New Obligor Identifier", "Data Cut-Off Date", "Pool Addition Date"]
    assert len(header) == len(TAPE_FIELDS)


def test_tape_formats_values():
    row = read_loan_tape(loan_tape_csv([record()]))[0]
    assert row["Current Principal Balance"] == "151234.50"
    assert row["Current Interest Rate"] == "4.3500"
    assert row["Current Loan-To-Value"] == "30.2469"
    assert row["Data Cut-Off Date"] == "2026-10-31"
    assert row["Eco-Credit Rating Colour"] == "green"


def test_tape_writes_no_data_codes_for_unknown_values():
    rows = read_loan_tape(loan_tape_csv([record(colour=None, collateral_value=None, ltv=None, collateral_gep=None,
                                                pool_addition_date=None, sector="ND3")]))
    row = rows[0]
    assert row["Eco-Credit Rating Colour"] == "ND1"      # not required by the underwriting criteria
    assert row["Current Valuation Amount"] == "ND5"      # unsecured: not applicable
    assert row["Current Loan-To-Value"] == "ND5"
    assert row["Collateral GEP"] == "ND5"
    assert row["Pool Addition Date"] == "ND2"
    assert row["Obligor Industry"] == "ND3"              # an explicit code is kept
    assert all(cell != "" for cell in row.values())
    assert set(ND_CODES) == {"ND1", "ND2", "ND3", "ND4", "ND5"}


def test_tape_has_one_row_per_loan():
    rows = read_loan_tape(loan_tape_csv([record(loan_ref=f"L{i}") for i in range(25)]))
    assert [r["Original Underlying Exposure Identifier"] for r in rows] == [f"L{i}" for i in range(25)]


def test_probe_10_tape_neutralises_formula_text_and_keeps_negative_amounts():
    rows = read_loan_tape(loan_tape_csv([record(pool_code="=HYPERLINK(\"http://x\")", obligor_ref="@P7",
                                                sector="+cmd", balance=Decimal("-12.5"))]))
    assert rows[0]["Unique Identifier"] == "'=HYPERLINK(\"http://x\")"
    assert rows[0]["Original Obligor Identifier"] == "'@P7" and rows[0]["Obligor Industry"] == "'+cmd"
    assert rows[0]["Current Principal Balance"] == "-12.50"  # a number stays a number
