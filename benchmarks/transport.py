"""Entropic OT: time to reach a marginal error, ours against POT and GeomLoss, n = 2000 (and 10000), eps = 0.1, 0.01.

Problem: 2-D Gaussian clouds x ~ N(0, I), y ~ N(1, I/2), n points each, uniform
weights, squared Euclidean cost. Precision axis: the L1 error of both
marginals of the plan each method returns (computed the same way for all,
outside the timings). Ground truth: ours at tol 1e-12 (Newton polish), its
``gap_bound`` certificate reported; value errors are relative to it.

Methods (each with its own defaults for threads, in the same process):
- ours: ``entropic_ot(x, y, eps=eps, tol=t)`` for t = 1e-1 ... 1e-9, each from scratch.
- POT ``ot.sinkhorn(..., method="sinkhorn_log")``: one trajectory, continued in
  chunks from its own log-potentials (``warmstart``) so that checkpoint k costs
  what k iterations cost; stopped after ``POT_BUDGET`` seconds.
- GeomLoss ``SamplesLoss("sinkhorn", debias=False, potentials=True,
  backend="tensorized")`` with the cost |x - y|^2 and blur = sqrt(eps), for
  several ``scaling`` (its precision knob: it runs a fixed eps schedule, no
  tolerance). Run only when ``geomloss`` and ``torch`` import: they are a
  benchmark-only dependency. ``pip download --no-deps torch`` gives a 555 MB
  wheel here, but that is a CUDA build whose dependencies add ~2.2 GB of
  nvidia wheels; the CPU build ``pip install torch==2.13.0`` (192 MB wheel) plus
  ``pip install --no-deps geomloss`` is what this benchmark was run with.
- POT ``ot.bregman.sinkhorn_epsilon_scaling`` (``stopThr`` sweep): at n >= 1000 it
  returns a zero plan (marginal error 2.0) after 2 to 5 minutes on this machine
  (n = 2000: 175 s at eps = 0.1 and 0.01 with numInnerItermax = 10; n = 1000, eps =
  0.01: 295 s), so it is compared at n = 500, where it works, and at n = 2000 only
  with ``--pot-eps-scaling-2000`` (adds about 6 minutes).

For each target error the table gives the first time each method reached it
(ratio = peer time / ours). A peer that never reached it has no time; since
its precision only grows with its cost (a longer trajectory, a larger
``scaling``), ``ratio_at_least`` = (time of its most precise point) / ours is a
lower bound; for GeomLoss (independent runs whose error falls like a power of
their time) ``ratio_extrapolated`` extrapolates a log-log fit of error against
time down to 1/100 of its best error (an estimate, not a measurement). Sinkhorn divergence rows:
ours (tol 1e-3 and 1e-6) against GeomLoss (debias=True, scaling 0.9) on the
same clouds, with relative errors against a tol-1e-11 run, and on a permuted
copy (S = 0 exactly for ours, no iteration).

n = 10000 (``--n10000``, a separate run and file: 16 minutes here at load 3 to
6.6 on 2 cores, of which 5 for the eps = 0.01 reference solve): ours
goes through the online kernel (``kernel="auto"`` streams above 4000 x 4000
pairs: no matrix stored, 0.2 GB against 1.8 GB for the dense path, the same
iterations); the tolerances are 1e-1, 1e-2, 1e-3 (and 1e-5 at eps = 0.1),
each from scratch, plus the reference solve (tol 1e-10 at eps = 0.1, 1e-7 at
eps = 0.01, where Sinkhorn alone needs ~250 iterations of ~0.4 s to reach it:
no Newton polish at this size), also a point of the curve: a target between
two tolerances is credited with the time of the tighter one (conservative
for ours). GeomLoss (tensorized, which needs its 800 MB cost
matrix and a few more of that size) at scaling 0.5 and 0.8 only: one run
takes 1.5 to 2.5 minutes at this size. POT is not run (its log-domain
iterations take ~5 s each at this size). Marginal errors are computed from
the potentials in blocks of rows, the same formula as for n = 2000. The
machine is shared: ``meta`` records ``os.getloadavg()`` at the start and the
end, every point its own.

    python benchmarks/transport.py [--quick] [--pot-eps-scaling-2000] [--n10000]
    # writes results/transport.json (table) and results/transport_curves.json (all points);
    # --n10000: results/transport_n10000.json and results/transport_n10000_curves.json instead
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import ot

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import RESULTS, Report  # noqa: E402
from meanfolio.transport import entropic_ot, sinkhorn_divergence  # noqa: E402

N, EPS = 2000, (0.1, 0.01)
TARGETS = tuple(10.0**-k for k in range(1, 10))
POT_BUDGET = 60.0  # seconds of POT log-domain iterations per eps
SCALINGS = (0.5, 0.8, 0.9, 0.95, 0.98)  # GeomLoss
LARGE_N, LARGE_SCALINGS = 10000, (0.5, 0.8)
# n = 10000: our tolerances and the reference solve's (also a point of the curve), per eps
LARGE_TOLS = {0.1: ((1e-1, 1e-2, 1e-3, 1e-5), 1e-10), 0.01: ((1e-1, 1e-2, 1e-3), 1e-7)}
ROW_BLOCK = 500  # rows per block when the plan is too large to hold (marginal errors at n = 10000)


def clouds(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)), 1 + rng.normal(size=(n, 2)) / np.sqrt(2)


def marginal_error(P, a, b):
    return float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())


def gibbs_plan(f, g, M, a, b, eps):
    return np.exp((f[:, None] + g[None, :] - M) / eps) * np.outer(a, b)


def primal_value(P, M, a, b, eps):
    ab = np.outer(a, b)
    kl = np.sum(np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0) / ab), 0.0))
    return float(np.sum(P * M) + eps * kl)


def ours_curve(x, y, M, a, b, eps, tols):
    points = []
    for tol in tols:
        start = time.perf_counter()
        res = entropic_ot(x, y, eps=eps, tol=tol)
        seconds = time.perf_counter() - start
        P = gibbs_plan(res.f, res.g, M, a, b, eps)
        points.append({"tol": tol, "seconds": seconds, "error": marginal_error(P, a, b), "value": res.value,
                       "iterations": res.iterations, "newton_steps": res.newton_steps})  # fmt: skip
    return points


def pot_log_curve(M, a, b, eps, budget):
    points, total, done, warm, chunk = [], 0.0, 0, None, 10
    while True:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            P, log = ot.sinkhorn(a, b, M, eps, method="sinkhorn_log", numItermax=chunk, stopThr=0.0,
                                 warmstart=warm, log=True)  # fmt: skip
        spent = time.perf_counter() - start
        total, done, warm = total + spent, done + chunk, (log["log_u"], log["log_v"])
        points.append({"iterations": done, "seconds": total, "error": marginal_error(P, a, b),
                       "value": primal_value(P, M, a, b, eps)})  # fmt: skip
        per_iteration = spent / chunk
        chunk = min(done, int((budget - total) / per_iteration))
        if chunk < 10:
            return points


def pot_eps_scaling_curve(M, a, b, eps, thresholds, **kw):
    points = []
    for thr in thresholds:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            P = ot.bregman.sinkhorn_epsilon_scaling(a, b, M, eps, stopThr=thr, **kw)
        seconds = time.perf_counter() - start
        points.append({"stopThr": thr, "seconds": seconds, "error": marginal_error(P, a, b),
                       "value": primal_value(P, M, a, b, eps)})  # fmt: skip
    return points


def geomloss_loss(eps, scaling, debias):
    import torch
    from geomloss import SamplesLoss

    def cost(x, y):
        return ((x[:, :, None, :] - y[:, None, :, :]) ** 2).sum(-1)

    loss = SamplesLoss("sinkhorn", p=2, blur=float(np.sqrt(eps)), scaling=scaling, debias=debias,
                       potentials=not debias, backend="tensorized", cost=cost)  # fmt: skip
    return lambda x, y: loss(torch.from_numpy(x), torch.from_numpy(y))


def geomloss_curve(x, y, a, b, eps, scalings, error, verbose=False):
    """GeomLoss's time-to-error points, one per eps-scaling factor; ``error(f, g)`` measures its
    potentials (the dense plan's marginal error, or the streamed one at n = 10000)."""
    geomloss_loss(eps, 0.5, False)(x[:100], y[:100])  # warm-up (torch's first call)
    points = []
    for scaling in scalings:
        start = time.perf_counter()
        F, G = geomloss_loss(eps, scaling, False)(x, y)
        seconds = time.perf_counter() - start
        f, g = F.numpy().ravel(), G.numpy().ravel()
        del F, G
        points.append({"scaling": scaling, "seconds": seconds, "error": error(f, g), "value": float(a @ f + b @ g),
                       "loadavg": os.getloadavg()})  # fmt: skip
        if verbose:
            print(f"  GeomLoss scaling {scaling}: {seconds:.1f} s, error {points[-1]['error']:.2e}", flush=True)
    return points


def dense_marginal_error(f, g, M, a, b, eps):
    """marginal_error of the Gibbs plan of the potentials (f, g) on the cost matrix M."""
    return marginal_error(gibbs_plan(f, g, M, a, b, eps), a, b)


def streamed_marginal_error(f, g, x, y, a, b, eps):
    """marginal_error(gibbs_plan(f, g, ot.dist(x, y), a, b, eps), a, b) in blocks of rows (no n x m array)."""
    rows, cols = np.empty(len(x)), np.zeros(len(y))
    for start in range(0, len(x), ROW_BLOCK):
        sl = slice(start, start + ROW_BLOCK)
        P = gibbs_plan(f[sl], g, ot.dist(x[sl], y), a[sl], b, eps)
        rows[sl] = P.sum(1)
        cols += P.sum(0)
    return float(np.abs(rows - a).sum() + np.abs(cols - b).sum())


def large_ours_curve(x, y, a, b, eps, tols):
    points = []
    for tol in tols:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = entropic_ot(x, y, eps=eps, tol=tol)
        seconds = time.perf_counter() - start
        points.append({"tol": tol, "seconds": seconds, "error": streamed_marginal_error(res.f, res.g, x, y, a, b, eps),
                       "value": res.value, "iterations": res.iterations, "converged": res.converged,
                       "gap_bound": res.gap_bound, "loadavg": os.getloadavg()})  # fmt: skip
        print(f"  ours tol {tol:g}: {seconds:.1f} s, error {points[-1]['error']:.2e}", flush=True)
    return points, res


def main_large(quick: bool = False) -> None:
    """n = 10000 (see the module docstring); ``quick``: n = 3000, GeomLoss at scaling 0.5 only."""
    n, scalings = (3000, LARGE_SCALINGS[:1]) if quick else (LARGE_N, LARGE_SCALINGS)
    load_start = os.getloadavg()
    report, curves = Report(f"transport_n{n}"), {}
    x, y = clouds(n)
    a, b = np.full(n, 1 / n), np.full(n, 1 / n)
    entropic_ot(x[:50], y[:50], eps=0.1, kernel="online")  # compile
    for eps in EPS:
        label = f"n={n} eps={eps}"
        print(label, flush=True)
        tols, ref_tol = LARGE_TOLS[eps]
        ours, ref = large_ours_curve(x, y, a, b, eps, (*tols, ref_tol))
        streamed = functools.partial(streamed_marginal_error, x=x, y=y, a=a, b=b, eps=eps)
        peers = {"GeomLoss": geomloss_curve(x, y, a, b, eps, scalings, streamed, True)} if have_geomloss() else {}
        curves[label] = {"truth": ref.value, "truth_tol": ref_tol, "truth_gap_bound": ref.gap_bound,
                         "truth_converged": ref.converged, "ours": ours, **peers}  # fmt: skip
        add_rows(report, label, ref.value, ours, peers)
    report.print()
    path = report.write_json()
    data = json.loads(path.read_text())
    data["meta"].update(loadavg_start=load_start, loadavg_end=os.getloadavg(), cores=os.cpu_count(),
                        geomloss=have_geomloss())  # fmt: skip
    path.write_text(json.dumps(data, indent=2, default=str))
    print("written", path)
    path = RESULTS / f"transport_n{n}_curves.json"
    path.write_text(json.dumps(curves, indent=1, default=float))
    print("written", path)


def first_time(points, target):
    times = [p["seconds"] for p in points if p["error"] <= target]
    return min(times) if times else None


def extrapolated_time(points, target):
    """Time at which a log-log fit of error against time reaches the target (None without a decreasing fit)."""
    if len(points) < 3:
        return None
    slope, intercept = np.polyfit(np.log([p["seconds"] for p in points]), np.log([p["error"] for p in points]), 1)
    return float(np.exp((np.log(target) - intercept) / slope)) if slope < 0 else None


def add_rows(report, label, truth, ours, peers):
    """One row per (target, peer): first times to reach the target and their ratio."""
    for target in TARGETS:
        t_ours = first_time(ours, target)
        if t_ours is None:  # ours did not reach it (n = 10000, eps = 0.01: no Newton polish at that size)
            report.add(f"{label} err<={target:.0e} (ours did not reach it)", float("nan"), None,
                       ours_best_error=min(p["error"] for p in ours))  # fmt: skip
            continue
        best = min((p for p in ours if p["error"] <= target), key=lambda p: p["seconds"])
        for name, pts in peers.items():
            t_peer = first_time(pts, target)
            extra = {"ours_error": best["error"], "ours_value_rel_error": abs(best["value"] - truth) / abs(truth)}
            if t_peer is None:
                # more precision costs the peer more time (longer trajectory, or larger scaling): its time
                # to the target exceeds that of its most precise point, a lower bound of the ratio
                best_peer = min(pts, key=lambda p: p["error"])
                extra.update(peer_best_error=best_peer["error"], ratio_at_least=best_peer["seconds"] / t_ours)
                near = name == "GeomLoss" and target >= best_peer["error"] / 100
                guess = extrapolated_time(pts, target) if near else None
                if guess is not None:
                    extra.update(peer_extrapolated_s=guess, ratio_extrapolated=guess / t_ours)
            else:
                hit = min((p for p in pts if p["error"] <= target), key=lambda p: p["seconds"])
                extra.update(peer_error=hit["error"], peer_value_rel_error=abs(hit["value"] - truth) / abs(truth))
            report.add(f"{label} err<={target:.0e} vs {name}", t_ours, t_peer, **extra)


def have_geomloss() -> bool:
    try:
        import geomloss  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def divergence_rows(report, curves, n, eps):
    x, y = clouds(n, seed=1)
    truth = float(sinkhorn_divergence(x, y, eps=eps, tol=1e-11))
    start = time.perf_counter()
    loose = sinkhorn_divergence(x, y, eps=eps, tol=1e-3)
    t_loose = time.perf_counter() - start
    start = time.perf_counter()
    ours = sinkhorn_divergence(x, y, eps=eps, tol=1e-6)
    t_ours = time.perf_counter() - start
    perm = np.random.default_rng(2).permutation(n)
    start = time.perf_counter()
    same = float(sinkhorn_divergence(x, x[perm], eps=eps))
    t_same = time.perf_counter() - start
    rows = {"truth": truth, "ours": float(ours), "ours_s": t_ours, "ours_loose": float(loose), "ours_loose_s": t_loose,
            "ours_permuted": same, "ours_permuted_s": t_same}  # fmt: skip
    t_gl = t_gl_same = None
    if have_geomloss():
        loss = geomloss_loss(eps, 0.9, True)
        start = time.perf_counter()
        rows["geomloss"] = float(loss(x, y))
        t_gl = rows["geomloss_s"] = time.perf_counter() - start
        start = time.perf_counter()
        rows["geomloss_permuted"] = float(loss(x, x[perm]))
        t_gl_same = rows["geomloss_permuted_s"] = time.perf_counter() - start
    curves[f"divergence eps {eps}"] = rows
    peer_error = abs(rows["geomloss"] - truth) / truth if t_gl else None
    for tol, res, t in ((1e-3, loose, t_loose), (1e-6, ours, t_ours)):
        report.add(f"S_eps n={n} eps={eps} tol {tol:g} vs GeomLoss scaling 0.9", t, t_gl,
                   ours_rel_error=abs(float(res) - truth) / truth, ours_error_bound=res.error_bound,
                   peer_rel_error=peer_error)  # fmt: skip
    report.add(f"S_eps permuted copy (= 0) n={n} eps={eps} vs GeomLoss", t_same,
               t_gl_same, value_ours=same, value_peer=rows.get("geomloss_permuted"))  # fmt: skip


def main(quick: bool = False, pot_eps_2000: bool = False) -> None:
    n, budget = (400, 10.0) if quick else (N, POT_BUDGET)
    report, curves = Report("transport"), {}
    x, y = clouds(n)
    a, b = np.full(n, 1 / n), np.full(n, 1 / n)
    M = ot.dist(x, y)
    entropic_ot(x[:50], y[:50], eps=0.1)  # compile
    for eps in EPS:
        ref = entropic_ot(x, y, eps=eps, tol=1e-12)
        label = f"n={n} eps={eps}"
        ours = ours_curve(x, y, M, a, b, eps, TARGETS)
        peers = {"POT sinkhorn_log": pot_log_curve(M, a, b, eps, budget)}
        if have_geomloss():
            dense = functools.partial(dense_marginal_error, M=M, a=a, b=b, eps=eps)
            peers["GeomLoss"] = geomloss_curve(x, y, a, b, eps, SCALINGS[:2] if quick else SCALINGS, dense)
        if pot_eps_2000:
            peers["POT eps scaling"] = pot_eps_scaling_curve(M, a, b, eps, (1e-6,), numInnerItermax=10)
        curves[label] = {"truth": ref.value, "truth_gap_bound": ref.gap_bound, "ours": ours, **peers}
        add_rows(report, label, ref.value, ours, peers)
        print(f"{label} done", flush=True)
    # POT's epsilon scaling where it works
    m = 500
    xs, ys = clouds(m, seed=3)
    a5, M5 = np.full(m, 1 / m), ot.dist(xs, ys)
    for eps in EPS:
        ref = entropic_ot(xs, ys, eps=eps, tol=1e-12)
        ours = ours_curve(xs, ys, M5, a5, a5, eps, TARGETS)
        peer = pot_eps_scaling_curve(M5, a5, a5, eps, (1e-2, 1e-4, 1e-6, 1e-8, 1e-10))
        curves[f"n={m} eps={eps}"] = {"truth": ref.value, "ours": ours, "POT eps scaling": peer}
        add_rows(report, f"n={m} eps={eps}", ref.value, ours, {"POT eps scaling": peer})
    divergence_rows(report, curves, n, 0.01)
    report.print()
    print("written", report.write_json())
    path = RESULTS / "transport_curves.json"
    path.write_text(json.dumps(curves, indent=1, default=float))
    print("written", path)


if __name__ == "__main__":
    if "--n10000" in sys.argv:
        main_large(quick="--quick" in sys.argv)
    else:
        main(quick="--quick" in sys.argv, pot_eps_2000="--pot-eps-scaling-2000" in sys.argv)
