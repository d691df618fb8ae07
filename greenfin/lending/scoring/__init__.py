"""Lending's credit scoring, one subpackage (imports run one way: data <- bins <- points <- compiled <- scorecard <- modelling).

- ``data``: reading a loan book CSV, parsing numbers, detecting column types, the target;
- ``bins``: weight-of-evidence bins of one feature;
- ``points``: points scaling and scored rows;
- ``compiled``: the fitted card as numpy arrays, the fast scoring path;
- ``scorecard``: the points scorecard (fit, score, reason codes), metrics, training, PSI;
- ``modelling``: the model registry, application scoring and population stability monitoring.

Score cut-offs, bands and the price of a loan are not here: see ``greenfin/lending/pricing.py``.
"""
