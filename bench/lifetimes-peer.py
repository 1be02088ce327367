"""The scoring peer: Python `lifetimes` (the library most analysts use) on the same customers' summary.

Reads a TSV (header: frequency, recency, T, monetary; one row per customer: x, t_x, T_c in days and
m̄, exactly the statistics our scoring run computed), then, timed: fits BG/NBD, MBG/NBD and
Gamma-Gamma (on the repeat buyers, as lifetimes documents), and predicts P(alive) (MBG/NBD) and
12-month CLV (MBG/NBD with Gamma-Gamma) for every customer. Prints one JSON line: seconds per step
and the fitted parameters, or {"error": ...} when a fit fails.

    PYTHONPATH=.local/python python3 bench/lifetimes-peer.py SUMMARY.tsv MONTHLY_DISCOUNT_RATE

lifetimes 0.11.3 (its last release, 2020) runs unpatched on the pinned set scripts/bootstrap.sh
installs (numpy 2, pandas 2, scipy 1.16, autograd 1.8): the fitters used here call no removed API.
"""

import json
import sys
import time
import warnings

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter
from lifetimes.utils import ConvergenceError

warnings.simplefilter("ignore")


def main() -> None:
    path, monthly_discount = sys.argv[1], float(sys.argv[2])
    started = time.perf_counter()
    summary = pd.read_csv(path, sep="\t", dtype="float64")
    result = {"customers": len(summary), "loadSeconds": time.perf_counter() - started, "seconds": {}, "params": {}}
    frequency, recency, T, monetary = summary["frequency"], summary["recency"], summary["T"], summary["monetary"]

    def timed(name, step):
        began = time.perf_counter()
        value = step()
        result["seconds"][name] = time.perf_counter() - began
        return value

    try:
        # lifetimes prints the optimiser's state before raising ConvergenceError: keep stdout one JSON line.
        sys.stdout, printed = sys.stderr, sys.stdout
        bgnbd = timed("fit bgnbd", lambda: BetaGeoFitter().fit(frequency, recency, T))
        mbgnbd = timed("fit mbgnbd", lambda: ModifiedBetaGeoFitter().fit(frequency, recency, T))
        repeat = summary[(frequency > 0) & (monetary > 0)]
        gamma_gamma = timed("fit gamma_gamma", lambda: GammaGammaFitter().fit(repeat["frequency"], repeat["monetary"]))
        timed("p_alive", lambda: mbgnbd.conditional_probability_alive(frequency, recency, T))
        timed(
            "clv_12m",
            lambda: gamma_gamma.customer_lifetime_value(
                mbgnbd, frequency, recency, T, monetary, time=12, freq="D", discount_rate=monthly_discount
            ),
        )
    except ConvergenceError as error:
        result["error"] = f"did not converge: {str(error).strip()}"
    finally:
        sys.stdout = printed
    for name, fitter in (("bgnbd", locals().get("bgnbd")), ("mbgnbd", locals().get("mbgnbd")), ("gamma_gamma", locals().get("gamma_gamma"))):
        if fitter is not None:
            result["params"][name] = {k: float(v) for k, v in fitter.params_.items()}
    result["totalSeconds"] = sum(result["seconds"].values())
    print(json.dumps(result))


main()
