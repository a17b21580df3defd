"""Sinkhorn divergence on 2000 vs 2000 points in 2D: ours against POT's log-domain Sinkhorn.

Both compute S_eps = OT(a, b) - (OT(a, a) + OT(b, b)) / 2 with the full
regularised values, eps = 0.05, stopping at a marginal error of 1e-6; the
values are printed side by side (equal accuracy).

    python benchmarks/transport.py [N]  # N points each (default 2000); prints a table, writes results/transport.json
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import ot

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import Report, best_time  # noqa: E402
from meanfolio.transport import sinkhorn_divergence  # noqa: E402

EPS, TOL = 0.05, 1e-6


def pot_full(xa, xb):
    a, b = np.full(len(xa), 1 / len(xa)), np.full(len(xb), 1 / len(xb))
    M = ot.dist(xa, xb)
    P = ot.sinkhorn(a, b, M, EPS, method="sinkhorn_log", stopThr=TOL, numItermax=100_000)
    ab = np.outer(a, b)
    return np.sum(P * M) + EPS * np.sum(np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0) / ab), 0.0))


def main(n: int = 2000) -> None:
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(n, 2)), rng.normal(size=(n, 2)) * 0.8 + 0.5
    report = Report("transport")
    t_ours, s_ours = best_time(lambda: sinkhorn_divergence(xa, xb, eps=EPS, tol=TOL), repeat=2)
    t_pot, s_pot = best_time(lambda: pot_full(xa, xb) - 0.5 * (pot_full(xa, xa) + pot_full(xb, xb)), repeat=1)
    report.add(f"Sinkhorn divergence, {n} x {n} points, 2D, eps {EPS}", t_ours, t_pot,
               value_ours=s_ours, value_pot=float(s_pot))  # fmt: skip
    report.print()
    print("written", report.write_json())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
