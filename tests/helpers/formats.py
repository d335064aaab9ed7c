"""The default studies' CSVs converted to the formats a cohort arrives in (issue 15).

Each writer uses the library a data manager would use (pyreadstat for SPSS, Stata and SAS
transport, openpyxl for Excel, pyarrow for parquet); REDCap exports and wide files are
written as text from the CSV cells, so every value is the one typed in the CSV.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
from openpyxl import Workbook

ITEM_KEYS = ("participant_id", "visit")


def read_cells(path: Path) -> pd.DataFrame:
    """A CSV (or a folder of CSVs) as text cells, blank = ''."""
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files]
    return pd.concat(frames, ignore_index=True)


def typed(cells: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns as doubles (blank = NaN), the others as text."""
    frame = cells.copy()
    for column in frame.columns:
        filled = frame[column] != ""
        numbers = pd.to_numeric(frame[column].where(filled), errors="coerce")
        if filled.any() and numbers[filled].notna().all():
            frame[column] = numbers.astype(float)
    return frame


def coded(frame: pd.DataFrame, columns) -> tuple[pd.DataFrame, dict]:
    """Text columns as codes 1, 2, ... with value labels, as SPSS stores categories."""
    frame = frame.copy()
    labels = {}
    for column in columns:
        values = sorted(v for v in frame[column].unique() if v != "")
        codes = {v: float(i) for i, v in enumerate(values, 1)}
        frame[column] = frame[column].map(codes)
        labels[column] = {int(code): value for value, code in codes.items()}
    return frame, labels


def write_statistical(frame: pd.DataFrame, path: Path, **labels) -> None:
    writer = {
        ".sav": pyreadstat.write_sav,
        ".dta": pyreadstat.write_dta,
        ".xpt": pyreadstat.write_xport,
    }[path.suffix]
    writer(frame, path, **labels)


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([None if (isinstance(v, float) and v != v) else v for v in row])
    book.save(path)


def spine_in_mixed_formats(raw: Path, out: Path) -> dict:
    """``data/raw/spine_rct`` as SPSS (roster, arm and sex coded with value labels), Stata,
    SAS transport, parquet and two workbooks; returns the study's changed config keys."""
    out.mkdir(parents=True)
    roster, labels = coded(typed(read_cells(raw / "participants.csv")), ["arm", "sex"])
    write_statistical(roster, out / "participants.sav", variable_value_labels=labels)
    write_statistical(typed(read_cells(raw / "back_extensor.csv")), out / "back_extensor.dta")
    write_statistical(typed(read_cells(raw / "loaded_standing.csv")), out / "endurance.xpt")
    typed(read_cells(raw / "spinal_mobility.csv")).to_parquet(out / "mobility.parquet")
    write_workbook(
        out / "spirometry.xlsx", {"Lung function": typed(read_cells(raw / "spirometry.csv"))}
    )
    write_workbook(
        out / "questionnaires.xlsx",
        {
            "SF-36": typed(read_cells(raw / "sf36.csv")),
            "QUALEFFO-41": typed(read_cells(raw / "qualeffo41.csv")),
        },
    )
    return {
        "data_dir": str(out),
        "instruments": {
            "back_extensor": {"type": "back_extensor"},
            "endurance": {"type": "loaded_standing", "file": "endurance.xpt"},
            "mobility": {"type": "spinal_mobility", "file": "mobility.parquet"},
            "spirometry": {"type": "spirometry"},
            "qualeffo41": {
                "type": "qualeffo41",
                "file": "questionnaires.xlsx",
                "sheet": "QUALEFFO-41",
            },
            "sf36": {
                "type": "sf36",
                "file": "questionnaires.xlsx",
                "sheet": "SF-36",
                "options": {"norms": "us1998", "algorithm": "rand36"},
            },
        },
    }


KNEE_EVENTS = {
    "baseline": ("baseline_arm_1", ""),
    "week12": ("follow_up_arm_1", "1"),
    "week24": ("follow_up_arm_1", "2"),
}


def knee_as_redcap(raw: Path, out: Path, study: dict) -> dict:
    """``data/raw/knee_sarcopenia`` as a REDCap "records" export (one row per record and
    event; weeks 12 and 24 as instances 1 and 2 of a repeating follow-up event; fields named
    ``<instrument>_<item>``), except knee ROM in a wide file (``rom_deg_<visit>``) and HSS in
    SPSS with its categories coded and labelled. Returns the study's changed config keys."""
    out.mkdir(parents=True)
    (out / "participants.csv").write_bytes((raw / "participants.csv").read_bytes())
    instruments = dict(study["instruments"])
    export = None
    changed = {}
    for instrument_id, spec in instruments.items():
        source = raw / (spec.get("file") or instrument_id)
        source = source if source.exists() else source.with_suffix(".csv")
        cells = read_cells(source)
        if spec["type"] == "knee_rom":
            wide = cells.pivot(index="participant_id", columns="visit", values="rom_deg")
            wide = wide.fillna("").reindex(columns=list(KNEE_EVENTS))
            wide.columns = [f"rom_deg_{v}" for v in wide.columns]
            wide.reset_index().to_csv(out / "knee_wide.csv", index=False)
            changed[instrument_id] = {
                **spec,
                "file": "knee_wide.csv",
                "layout": "wide",
                "column_pattern": "{item}_{visit}",
            }
            continue
        if spec["type"] == "hss":
            text = [c for c in cells.columns if c not in ITEM_KEYS and not c.endswith("_deg")]
            frame, labels = coded(typed(cells), text)
            write_statistical(frame, out / "hss.sav", variable_value_labels=labels)
            changed[instrument_id] = {**spec, "file": "hss.sav"}
            continue
        fields = cells.rename(
            columns={c: f"{instrument_id}_{c}" for c in cells.columns if c not in ITEM_KEYS}
        )
        export = (
            fields if export is None else export.merge(fields, on=list(ITEM_KEYS), how="outer")
        )
        changed[instrument_id] = {
            **{k: v for k, v in spec.items() if k != "file"},
            "file": "redcap_export.csv",
            "layout": "redcap",
            "id_column": "record_id",
            "column_pattern": f"{instrument_id}_{{item}}",
            "visit_map": {
                "baseline_arm_1": "baseline",
                "follow_up_arm_1": {1: "week12", 2: "week24"},
            },
        }
    export = export.fillna("")
    events = export["visit"].map(KNEE_EVENTS)
    export.insert(1, "redcap_event_name", events.str[0])
    export.insert(2, "redcap_repeat_instrument", "")
    export.insert(3, "redcap_repeat_instance", events.str[1])
    export = export.drop(columns="visit").rename(columns={"participant_id": "record_id"})
    export.sort_values(["record_id", "redcap_event_name", "redcap_repeat_instance"]).to_csv(
        out / "redcap_export.csv", index=False
    )
    return {"data_dir": str(out), "instruments": {k: changed[k] for k in instruments}}
