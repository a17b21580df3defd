"""Sinkhorn divergence on 2000 vs 2000 points in 2D: ours against POT's log-domain Sinkhorn.

Both compute S_eps = OT(a, b) - (OT(a, a) + OT(b, b)) / 2 with the full
regularised values, eps = 0.05, squared Euclidean cost, stopping at an L1
marginal error of 1e-6 (equal accuracy; the values are printed side by
side). One row per term and one for the divergence. Ours: compiled
log-domain Sinkhorn with epsilon scaling and over-relaxation for OT(a, b),
the symmetric averaged iteration for OT(a, a). POT: ``ot.sinkhorn(...,
method="sinkhorn_log")`` from zero potentials, its plan turned into the
full regularised value.

    python benchmarks/transport.py [N]  # N points each (default 2000); writes results/transport[_N].json
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import ot

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import Report, best_time  # noqa: E402
from meanfolio.transport import entropic_ot  # noqa: E402

EPS, TOL = 0.05, 1e-6


def pot_full(xa, xb):
    """POT's log-domain Sinkhorn, then the full regularised value of its plan; (value, iterations)."""
    a, b = np.full(len(xa), 1 / len(xa)), np.full(len(xb), 1 / len(xb))
    M = ot.dist(xa, xb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        P, log = ot.sinkhorn(a, b, M, EPS, method="sinkhorn_log", stopThr=TOL, numItermax=200_000, log=True)
    ab = np.outer(a, b)
    kl = np.sum(np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0) / ab), 0.0))
    return float(np.sum(P * M) + EPS * kl), int(log["niter"])


def main(n: int = 2000) -> None:
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(n, 2)), rng.normal(size=(n, 2)) * 0.8 + 0.5
    report = Report("transport" if n == 2000 else f"transport_{n}")
    ours_total = pot_total = 0.0
    values = {}
    for name, (p, q) in {"OT(a, b)": (xa, xb), "OT(a, a)": (xa, xa), "OT(b, b)": (xb, xb)}.items():
        t_ours, res = best_time(lambda p=p, q=q: entropic_ot(p, q, eps=EPS, tol=TOL), repeat=1)
        start = time.perf_counter()
        v_pot, its_pot = pot_full(p, q)
        t_pot = time.perf_counter() - start
        ours_total += t_ours
        pot_total += t_pot
        values[name] = (res.value, v_pot)
        report.add(f"{name}, {n} points", t_ours, t_pot, value_ours=res.value, value_pot=v_pot,
                   iterations_ours=res.iterations, iterations_pot=its_pot)  # fmt: skip
    s_ours = values["OT(a, b)"][0] - 0.5 * (values["OT(a, a)"][0] + values["OT(b, b)"][0])
    s_pot = values["OT(a, b)"][1] - 0.5 * (values["OT(a, a)"][1] + values["OT(b, b)"][1])
    report.add(f"Sinkhorn divergence, {n} x {n} points, 2D, eps {EPS}", ours_total, pot_total,
               value_ours=s_ours, value_pot=s_pot, target_ratio=2.0)  # fmt: skip
    report.print()
    print("written", report.write_json())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
