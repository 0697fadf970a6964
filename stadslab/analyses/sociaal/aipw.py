"""Doubly robust effect estimate (AIPW) on a numeric design matrix — pure numbers in, numbers out.

Method: augmented inverse probability weighting (Robins, Rotnitzky & Zhao 1994, *JASA* 89:846;
in the form of Glynn & Quinn 2010, *Political Analysis* 18:36, and Lunceford & Davidian 2004,
*Statistics in Medicine* 23:2937):

    ATE = mean_i [ m1(x_i) − m0(x_i) + t_i (y_i − m1(x_i)) / e(x_i) − (1 − t_i)(y_i − m0(x_i)) / (1 − e(x_i)) ]

with e(x) a logistic propensity model and m0, m1 linear outcome models fitted per arm. The estimate is
consistent when either model is right ("doubly robust"). Fits and the point estimate come from
statsmodels (``Logit``; ``statsmodels.treatment.treatment_effects.TreatmentEffect`` fits the two OLS
outcome models and computes ``aipw(return_results=False)``). Its own standard errors come from a joint
GMM that statsmodels solves with Nelder–Mead over all 2 + 2k + k parameters: 25 s already at 20 000
rows × 20 columns, far beyond the 20 s budget for 200 000 persons — so the standard error here is the
influence-function one, sqrt(var(ψ_i) / n) (Lunceford & Davidian 2004, eq. 21), which the tests compare
with statsmodels' GMM standard error on a small data set. With ``clusters`` (the household: siblings share a
trajectory and a pupil returns in later school years) the influence values are summed per cluster first —
the cluster-robust sandwich, sqrt(G/(G−1) · Σ_c (Σ_{i∈c} ψ_i − ATE)²) / n (Liang & Zeger 1986).

Overlap: propensities are clipped to [CLIP, 1 − CLIP] (the same bounds statsmodels' AIPW moments use),
so no weight exceeds 1 / CLIP; the share of observations whose weight was cut (treated with e < CLIP,
controls with e > 1 − CLIP) is reported. Balance: standardised
mean differences (treated − control, divided by the pooled standard deviation sqrt((s1² + s0²) / 2))
before and after inverse probability weighting (Austin & Stuart 2015, *Stat Med* 34:3661); |SMD| > 0.1
is the usual flag of imbalance.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

CLIP = 0.01
SMD_FLAG = 0.1
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Balance:
    column: str
    smd_before: float
    smd_after: float
    n_level_min: int          # fewest observations with / without this column's value in one arm (binary columns)

    @property
    def imbalanced(self) -> bool:
        return abs(self.smd_after) > SMD_FLAG


@dataclass
class AIPWFit:
    ate: float
    se: float
    ci: tuple[float, float]
    naive: float
    naive_se: float
    naive_ci: tuple[float, float]
    ra: float                          # regression adjustment alone (for the record)
    n_treated: int
    n_control: int
    clipped_share: float
    propensity_range: dict[str, tuple[float, float]]
    balance: list[Balance] = field(default_factory=list)

    @property
    def max_abs_smd_after(self) -> float:
        return max((abs(b.smd_after) for b in self.balance), default=0.0)


def _drop_constant(X: np.ndarray, names: list[str], t: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Columns without variation (in the whole sample or in one arm) cannot be fitted in that arm's model."""
    keep = [j for j in range(X.shape[1])
            if np.ptp(X[:, j]) > 0 and np.ptp(X[t == 1, j]) > 0 and np.ptp(X[t == 0, j]) > 0]
    return X[:, keep], [names[j] for j in keep]


def _propensity(t: np.ndarray, Xc: np.ndarray) -> np.ndarray:
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # (quasi-)separation warnings: the clipping below handles extremes
        try:
            res = sm.Logit(t, Xc, check_rank=False).fit(method="newton", maxiter=50, disp=0)
            p = res.predict()
            if not np.all(np.isfinite(p)):
                raise np.linalg.LinAlgError("niet-eindige propensity")
        except (np.linalg.LinAlgError, ValueError):
            res = sm.Logit(t, Xc).fit(method="lbfgs", maxiter=500, disp=0)
            p = res.predict()
    return np.asarray(p, dtype=float), res


def _smd(x: np.ndarray, t: np.ndarray, w: np.ndarray | None) -> float:
    x1, x0 = x[t == 1], x[t == 0]
    sd = np.sqrt((x1.var(ddof=1) + x0.var(ddof=1)) / 2) if min(len(x1), len(x0)) > 1 else 0.0
    if sd == 0:
        return 0.0
    if w is None:
        return float((x1.mean() - x0.mean()) / sd)
    return float((np.average(x1, weights=w[t == 1]) - np.average(x0, weights=w[t == 0])) / sd)


def balance_table(X: np.ndarray, names: list[str], t: np.ndarray, w: np.ndarray) -> list[Balance]:
    out = []
    for j, name in enumerate(names):
        x = X[:, j]
        binary = np.isin(x, (0.0, 1.0)).all()
        if binary:
            ones1, ones0 = int(x[t == 1].sum()), int(x[t == 0].sum())
            n1, n0 = int((t == 1).sum()), int((t == 0).sum())
            n_min = min(ones1, n1 - ones1, ones0, n0 - ones0)
        else:
            n_min = int(min((t == 1).sum(), (t == 0).sum()))
        out.append(Balance(name, _smd(x, t, None), _smd(x, t, w), n_min))
    return out


def cluster_se(d: np.ndarray, clusters: np.ndarray) -> float:
    """Standard error of a mean of influence values ``d`` (centred) summed per cluster (Liang & Zeger 1986)."""
    _, codes = np.unique(clusters, return_inverse=True)
    sums = np.bincount(codes, weights=d)
    g = len(sums)
    if g < 2:
        return float("nan")
    return float(np.sqrt(g / (g - 1) * np.sum(sums ** 2)) / len(d))


def aipw(y: np.ndarray, t: np.ndarray, X: np.ndarray, names: list[str], *, clip: float = CLIP,
         clusters: np.ndarray | None = None) -> AIPWFit:
    """AIPW estimate of the average treatment effect of ``t`` (0/1) on ``y`` given confounders ``X``.

    ``X`` has no constant column (one is added); categorical confounders are one-hot with a reference
    level left out. Returns the estimate, its 95 % interval, the naive difference of means, overlap and
    balance diagnostics."""
    import statsmodels.api as sm
    from statsmodels.treatment.treatment_effects import TreatmentEffect

    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    X, names = _drop_constant(np.asarray(X, dtype=float), list(names), t)
    n1, n0 = int((t == 1).sum()), int((t == 0).sum())
    if n1 < 2 or n0 < 2:
        raise ValueError("te weinig behandelde of controle-waarnemingen om te schatten")
    Xc = sm.add_constant(X, has_constant="add")
    e_raw, res_sel = _propensity(t, Xc)
    e = np.clip(e_raw, clip, 1 - clip)
    # a weight is cut only where it would be extreme: 1/e for a treated, 1/(1 − e) for a control
    clipped = float(np.mean(((t == 1) & (e_raw < clip)) | ((t == 0) & (e_raw > 1 - clip))))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        teff = TreatmentEffect(sm.OLS(y, Xc), t.astype(int), results_select=res_sel)
        teff.prob_select = e                        # the clipped propensities (statsmodels' moments clip too)
        ate, _pom0, _pom1 = teff.aipw(return_results=False)
        ra, _, _ = teff.ra(return_results=False)
        m0 = teff.results0.predict(Xc)
        m1 = teff.results1.predict(Xc)
    psi = m1 - m0 + t * (y - m1) / e - (1 - t) * (y - m0) / (1 - e)
    ate = float(ate)
    se = float(np.sqrt(np.var(psi - ate, ddof=1) / len(y))) if clusters is None else cluster_se(psi - ate, clusters)

    y1, y0 = y[t == 1], y[t == 0]
    naive = float(y1.mean() - y0.mean())
    naive_se = float(np.sqrt(y1.var(ddof=1) / n1 + y0.var(ddof=1) / n0))
    w = np.where(t == 1, 1 / e, 1 / (1 - e))
    return AIPWFit(ate=ate, se=se, ci=(ate - Z95 * se, ate + Z95 * se), naive=naive, naive_se=naive_se,
                   naive_ci=(naive - Z95 * naive_se, naive + Z95 * naive_se), ra=float(ra),
                   n_treated=n1, n_control=n0, clipped_share=clipped,
                   propensity_range={"behandeld": (float(e_raw[t == 1].min()), float(e_raw[t == 1].max())),
                                     "controle": (float(e_raw[t == 0].min()), float(e_raw[t == 0].max()))},
                   balance=balance_table(X, names, t, w))
