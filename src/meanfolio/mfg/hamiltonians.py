"""Hamiltonians H(x, p) and their monotone upwind discretisation.

Every Hamiltonian here is convex in p with its minimum at p = 0, so the
optimal feedback ``alpha* = -H_p(x, p)`` points downhill. The discrete
Hamiltonian is the monotone splitting of Achdou & Capuzzo-Dolcetta (2010)

    H_h(x, a, b) = H(x, a^+) + H(x, b^-) - H(x, 0),
    a = D- u,  b = D+ u,  a^+ = max(a, 0),  b^- = min(b, 0),

nondecreasing in a, nonincreasing in b, consistent (H_h(x, p, p) = H(x, p))
and C^1 when H is. For H = p^2/2 it is 1/2 [(D-u)^+]^2 + 1/2 [(D+u)^-]^2.

Its derivatives ``H_p(a^+) >= 0`` and ``H_p(b^-) <= 0`` are the rates at
which an agent at node i jumps left and right (times dx): the discrete
Fokker-Planck equation is the transpose of this generator, which is why mass
is conserved exactly.

Methods take arrays and broadcast ``x`` of shape (nx,) against ``p`` of
shape (..., nx).

Regularisation: ``Linear`` and ``PowerLaw`` with a < 2 have a kink or an
infinite second derivative at p = 0, which makes the discrete system
non-smooth (Newton's Jacobian jumps, and an exact discrete equilibrium may
need agents indifferent at p = 0). ``smoothing = delta > 0`` replaces ``|p|`` by
the Huber-type ``sqrt(p^2 + delta^2) - delta``: for ``Linear``
``speed (sqrt(p^2 + delta^2) - delta)`` and for ``PowerLaw``
``((p^2 + delta^2)^(a/2) - delta^a) / a``. Both are smooth and convex, have
their minimum 0 at p = 0, and tend to the unsmoothed H uniformly on bounded
sets as delta -> 0 (``|H_delta - H| <= speed * delta``, resp. ``<= delta^a / a``
for a <= 2). ``solve_mfg`` uses them for its continuation in delta
(``meanfolio.mfg.solvers.regularization``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from meanfolio._validation import check_number

from .schemes import _kernels

__all__ = ["Custom", "Hamiltonian", "Linear", "PowerLaw", "Quadratic", "UpwindTerms", "upwind"]

#: kinds of ``_kernels.upwind_split_smooth``
_LINEAR, _POWER_LAW = 1, 2


class Hamiltonian(ABC):
    r"""Base class of the Hamiltonians :math:`H(x, p)`, convex in p with their minimum at p = 0.

    The Hamiltonian is the Legendre transform of the running cost of the
    control, :math:`H(x, p) = \sup_\alpha (-\alpha p - L(x, \alpha))`, and the
    optimal feedback is :math:`\alpha^* = -H_p(x, \partial_x u)`. It is
    discretised by the monotone splitting of Achdou & Capuzzo-Dolcetta,

    .. math::

        H_h(x, a, b) = H(x, a^+) + H(x, b^-) - H(x, 0), \qquad a = D^- u,\ b = D^+ u,

    nondecreasing in a, nonincreasing in b and consistent; the discrete
    Fokker-Planck equation is the transpose of its generator, so mass is
    conserved exactly.

    Subclasses define the vectorised ``H(x, p)``, ``H_p(x, p)`` and
    ``H_pp(x, p)``, with ``x`` of shape (nx,) broadcast against ``p`` of shape (..., nx).

    Attributes
    ----------
    name : str
        A short identifier of the Hamiltonian (class attribute).
    kernel : tuple of (int, float) or None
        (kind, parameter) of the compiled split ``_kernels.upwind_split`` for the built-ins;
        None (the default, and what a subclass should leave) evaluates the split through the
        vectorised methods.
    kinked : bool
        True when H has a kink or an unbounded :math:`H_{pp}` at p = 0 (Newton then needs the
        smoothing continuation of ``solve_mfg``); default False.
    smoothing : float
        The Huber-type smoothing :math:`\delta \ge 0` of the kink (0: the exact H).

    Methods
    -------
    H(x, p)
        Abstract: the Hamiltonian, shape of p (units of cost per unit time).
    H_p(x, p)
        Abstract: :math:`\partial H / \partial p`, shape of p (units of x per unit time).
    H_pp(x, p)
        :math:`\partial^2 H / \partial p^2` for Newton's Jacobian; default a central difference
        of ``H_p`` with step :math:`10^{-6} \max(1, \lvert p \rvert)`.
    optimal_control(x, p)
        The feedback :math:`\alpha^* = -H_p(x, p)`.
    smoothed(delta)
        The Hamiltonian with its kink smoothed by ``delta`` (``Linear`` and ``PowerLaw`` only;
        raises ValueError otherwise).

    See Also
    --------
    Quadratic, Linear, PowerLaw, Custom

    Notes
    -----
    A subclass must implement ``H`` and ``H_p`` (both abstract), vectorised and broadcasting
    x (nx,) against p (..., nx); it should implement ``H_pp`` when the second derivative is
    known (Newton converges faster than with the finite difference). H must be convex in p
    with its minimum at p = 0, so :math:`H_p(x, 0) = 0`: the upwind split relies on it
    (``H_p(a^+) >= 0`` and ``H_p(b^-) <= 0`` are the jump rates of the discrete agents). A
    subclass with a kink at p = 0 sets ``kinked = True`` and overrides ``smoothed``. For a
    Hamiltonian given by plain callables, :class:`Custom` does all this.

    References
    ----------
    .. [1] Y. Achdou, I. Capuzzo-Dolcetta, "Mean field games: numerical methods",
       SIAM J. Numer. Anal. 48(3) (2010).

    Examples
    --------
    A subclass needs only ``H`` and ``H_p`` (here :math:`H = (1 + x^2)\, p^2 / 2`):

    >>> import numpy as np
    >>> from meanfolio.mfg import Hamiltonian
    >>> class Stiff(Hamiltonian):
    ...     name = "stiff"
    ...     def H(self, x, p):
    ...         return 0.5 * (1 + x**2) * p**2
    ...     def H_p(self, x, p):
    ...         return (1 + x**2) * p
    >>> H = Stiff()
    >>> x, p = np.array([0.0, 1.0]), np.array([1.0, -1.0])
    >>> H.optimal_control(x, p), H.H_pp(x, p).round(6)
    (array([-1.,  2.]), array([1., 2.]))
    """

    name = "hamiltonian"
    #: (kind, parameter) of the compiled split in ``_kernels.upwind_split``,
    #: or None for Hamiltonians evaluated through their vectorised methods.
    kernel: tuple[int, float] | None = None

    @abstractmethod
    def H(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """H(x, p)."""

    @abstractmethod
    def H_p(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """dH/dp (x, p)."""

    def H_pp(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Second derivative :math:`H_{pp}(x, p)`; default: a central difference of ``H_p``."""
        h = 1e-6 * np.maximum(1.0, np.abs(p))
        return (self.H_p(x, p + h) - self.H_p(x, p - h)) / (2.0 * h)

    def optimal_control(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        """The optimal feedback :math:`\\alpha^* = -H_p(x, p)`, same shape as p."""
        return -self.H_p(x, p)

    #: True when H has a kink or an unbounded H_pp at p = 0 (Newton then
    #: needs the smoothing continuation of ``regularization``).
    kinked: bool = False
    #: the Huber-type smoothing delta >= 0 of the kink (0: the exact H)
    smoothing: float = 0.0

    def smoothed(self, delta: float) -> Hamiltonian:
        """This Hamiltonian with the kink at p = 0 smoothed by ``delta`` (only kinked built-ins)."""
        raise ValueError(f"{type(self).__name__} cannot be smoothed: expected Linear or PowerLaw")

    def _smooth_split(self) -> tuple[int, float, float] | None:
        """(kind, parameter, delta) of ``_kernels.upwind_split_smooth``, or None."""
        return None


@dataclass(frozen=True)
class Quadratic(Hamiltonian):
    r"""The quadratic Hamiltonian :math:`H(p) = p^2/2`: quadratic trading cost, :math:`\alpha^* = -p`.

    The Legendre transform of the running cost :math:`\alpha^2/2`: in finance the
    temporary (Almgren-Chriss) impact of trading at rate :math:`\alpha`, whose cost
    grows with the square of the speed. It has no parameter and does not depend on x:
    :math:`H_p = p`, :math:`H_{pp} = 1`.

    Its monotone upwind split (see :class:`Hamiltonian`) on the one-sided differences
    :math:`a = D^- u`, :math:`b = D^+ u` is

    .. math::

        H_h(a, b) = \tfrac12 \big[(a^+)^2 + (b^-)^2\big], \qquad
        a^+ = \max(a, 0),\ b^- = \min(b, 0),

    so an agent at a node jumps left at rate :math:`a^+ / \Delta x` and right at rate
    :math:`-b^- / \Delta x`;
    it is evaluated by a compiled kernel (``kernel = (0, 0.0)``).

    Attributes
    ----------
    name : str
        ``"quadratic"``.

    See Also
    --------
    Linear, PowerLaw

    References
    ----------
    .. [1] R. Almgren, N. Chriss, "Optimal execution of portfolio transactions",
       J. Risk 3 (2001).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.mfg import Quadratic
    >>> H = Quadratic()
    >>> x, p = np.zeros(3), np.array([-2.0, 0.0, 1.0])
    >>> H.H(x, p), H.optimal_control(x, p)
    (array([2. , 0. , 0.5]), array([ 2., -0., -1.]))
    """

    name = "quadratic"
    kernel = (0, 0.0)  # (kind, parameter) of _kernels.upwind_split

    def H(self, x, p):
        return 0.5 * p * p + 0.0 * x

    def H_p(self, x, p):
        return p + 0.0 * x

    def H_pp(self, x, p):
        return np.ones_like(p) + 0.0 * x


@dataclass(frozen=True)
class Linear(Hamiltonian):
    r"""The linear Hamiltonian :math:`H(p) = v \lvert p\rvert`: trading speed bounded by v, bang-bang control.

    The Legendre transform of the cost 0 for :math:`\lvert\alpha\rvert \le v`
    (+inf beyond): agents trade at full speed or not at all,
    :math:`\alpha^* = -v\, \mathrm{sign}(p)`, like a trader facing a participation
    limit. :math:`H_p(0)` is taken as 0 (the subgradient of least norm), so the
    split scheme moves no mass where u is flat. With
    :math:`\delta` = ``smoothing`` > 0 the kink is smoothed (Huber type),
    :math:`H = v (\sqrt{p^2 + \delta^2} - \delta)`, which differs from
    :math:`v\lvert p\rvert` by at most :math:`v\delta`.

    Parameters
    ----------
    speed : float, default 1
        v > 0, the largest trading rate (units of x per unit time).
    smoothing : float, default 0
        :math:`\delta \ge 0`.

    Raises
    ------
    ValueError
        If ``speed <= 0`` or ``smoothing < 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.mfg import Linear
    >>> Linear(speed=2.0).optimal_control(np.zeros(3), np.array([-0.5, 0.0, 3.0]))
    array([ 2., -0., -2.])
    """

    speed: float = 1.0
    smoothing: float = 0.0
    name = "linear"
    kinked = True

    @property
    def kernel(self):
        return (1, self.speed) if self.smoothing == 0.0 else None

    def __post_init__(self):
        object.__setattr__(self, "speed", check_number("speed", self.speed, low=0, low_inclusive=False))
        object.__setattr__(self, "smoothing", check_number("smoothing", self.smoothing, low=0))

    def smoothed(self, delta):
        return Linear(self.speed, delta)

    def _smooth_split(self):
        return None if self.smoothing == 0.0 else (_LINEAR, self.speed, self.smoothing)

    def H(self, x, p):
        d = self.smoothing
        h = np.abs(p) if d == 0.0 else np.sqrt(p * p + d * d) - d
        return self.speed * h + 0.0 * x

    def H_p(self, x, p):
        d = self.smoothing
        g = np.sign(p) if d == 0.0 else p / np.sqrt(p * p + d * d)
        return self.speed * g + 0.0 * x

    def H_pp(self, x, p):
        d = self.smoothing
        if d == 0.0:
            return np.zeros_like(p) + 0.0 * x
        return self.speed * d * d / (p * p + d * d) ** 1.5 + 0.0 * x


@dataclass(frozen=True)
class PowerLaw(Hamiltonian):
    r"""The power-law Hamiltonian :math:`H(p) = \lvert p\rvert^a / a`, a > 1.

    The Legendre transform of the trading cost
    :math:`\lvert\alpha\rvert^{a'}/a'` with the conjugate exponent
    :math:`a' = a/(a-1)`; :math:`\alpha^* = -\lvert p\rvert^{a-2} p`. A market
    impact growing like the square root of the speed (cost
    :math:`\propto \lvert\alpha\rvert^{3/2}`) is a = 3; a = 2 is :class:`Quadratic`.
    For a < 2, :math:`H_{pp} = (a-1)\lvert p\rvert^{a-2}` is infinite at p = 0
    and ``smoothing`` :math:`\delta > 0` gives
    :math:`H = ((p^2 + \delta^2)^{a/2} - \delta^a)/a`.

    Parameters
    ----------
    exponent : float, default 2
        a > 1.
    smoothing : float, default 0
        :math:`\delta \ge 0`.

    Raises
    ------
    ValueError
        If ``exponent <= 1`` or ``smoothing < 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.mfg import PowerLaw
    >>> PowerLaw(exponent=3.0).H(np.zeros(2), np.array([-1.0, 2.0])).round(4)
    array([0.3333, 2.6667])
    """

    exponent: float = 2.0
    smoothing: float = 0.0
    name = "power_law"

    @property
    def kinked(self) -> bool:  # type: ignore[override]
        return self.exponent < 2.0

    @property
    def kernel(self):
        return (2, self.exponent) if self.smoothing == 0.0 else None

    def __post_init__(self):
        object.__setattr__(self, "exponent", check_number("exponent", self.exponent, low=1, low_inclusive=False))
        object.__setattr__(self, "smoothing", check_number("smoothing", self.smoothing, low=0))

    def smoothed(self, delta):
        return PowerLaw(self.exponent, delta)

    def _smooth_split(self):
        return None if self.smoothing == 0.0 else (_POWER_LAW, self.exponent, self.smoothing)

    def H(self, x, p):
        a, d = self.exponent, self.smoothing
        if d > 0.0:
            return ((p * p + d * d) ** (a / 2) - d**a) / a + 0.0 * x
        return np.abs(p) ** a / a + 0.0 * x

    def H_p(self, x, p):
        a, d = self.exponent, self.smoothing
        if d > 0.0:
            return p * (p * p + d * d) ** (a / 2 - 1.0) + 0.0 * x
        return np.sign(p) * np.abs(p) ** (a - 1.0) + 0.0 * x

    def H_pp(self, x, p):
        a, d = self.exponent, self.smoothing
        if d > 0.0:
            r2 = p * p + d * d
            return r2 ** (a / 2 - 2.0) * ((a - 1.0) * p * p + d * d) + 0.0 * x
        ap = np.abs(p)
        with np.errstate(divide="ignore"):
            out = (a - 1.0) * np.where(ap > 0, ap, 1.0) ** (a - 2.0)
        if a < 2.0:
            out = np.where(ap > 0, out, np.inf)
        elif a > 2.0:
            out = np.where(ap > 0, out, 0.0)
        return out + 0.0 * x


@dataclass(frozen=True)
class Custom(Hamiltonian):
    r"""A user Hamiltonian from vectorised callables :math:`H(x, p)` and :math:`H_p(x, p)`.

    H must be convex in p with its minimum at p = 0 (so :math:`H_p(x, 0) = 0`):
    the upwind split relies on it. numba ``@vectorize``/``@njit`` functions work.

    Parameters
    ----------
    hamiltonian : callable
        ``H(x, p)``, with x of shape (nx,) and p of shape (..., nx), returning p's shape.
    gradient : callable
        ``H_p(x, p)``, same shapes.
    hessian : callable, optional
        ``H_pp(x, p)`` for Newton; default a central difference of ``H_p``.

    Raises
    ------
    ValueError
        If an argument is not callable.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.mfg import Custom
    >>> H = Custom(lambda x, p: 0.5 * (1 + x**2) * p**2, lambda x, p: (1 + x**2) * p)
    >>> H.optimal_control(np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    array([-1., -2.])
    """

    hamiltonian: Callable[[np.ndarray, np.ndarray], np.ndarray]
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]
    hessian: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    name = "custom"

    def __post_init__(self):
        for field in ("hamiltonian", "gradient"):
            if not callable(getattr(self, field)):
                raise ValueError(f"{field} = {getattr(self, field)!r} is not allowed: expected a callable (x, p)")
        if self.hessian is not None and not callable(self.hessian):
            raise ValueError(f"hessian = {self.hessian!r} is not allowed: expected a callable (x, p) or None")

    def H(self, x, p):
        return np.asarray(self.hamiltonian(x, p), dtype=np.float64) + 0.0 * p

    def H_p(self, x, p):
        return np.asarray(self.gradient(x, p), dtype=np.float64) + 0.0 * p

    def H_pp(self, x, p):
        if self.hessian is None:
            return Hamiltonian.H_pp(self, x, p)
        return np.asarray(self.hessian(x, p), dtype=np.float64) + 0.0 * p


@dataclass
class UpwindTerms:
    """The split Hamiltonian and its derivatives at every node, shape (..., nx).

    value = H(a^+) + H(b^-) - H(0); left = H_p(a^+) >= 0; right = H_p(b^-) <= 0;
    dleft = d left / d a; dright = d right / d b; drift = -(left + right), the
    mean velocity of the discrete agent (the alpha* of the scheme).
    """

    value: np.ndarray
    left: np.ndarray
    right: np.ndarray
    dleft: np.ndarray
    dright: np.ndarray

    @property
    def drift(self) -> np.ndarray:
        return -(self.left + self.right)


def upwind(hamiltonian: Hamiltonian, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> UpwindTerms:
    """Evaluate the monotone split of ``hamiltonian`` at ``a = D- u``, ``b = D+ u``.

    Smoothed built-ins go through the compiled ``_kernels.upwind_split_smooth``.
    """
    fast = hamiltonian._smooth_split()
    if fast is not None:
        a2, b2 = (np.ascontiguousarray(np.broadcast_arrays(a, b)[k], dtype=np.float64) for k in (0, 1))
        out = [np.empty(a2.size) for _ in range(5)]
        _kernels.upwind_split_smooth(fast[0], float(fast[1]), float(fast[2]), a2.ravel(), b2.ravel(), *out)
        return UpwindTerms(*(o.reshape(a2.shape) for o in out))
    ap = np.maximum(a, 0.0)
    bm = np.minimum(b, 0.0)
    zero = np.zeros_like(a)
    value = hamiltonian.H(x, ap) + hamiltonian.H(x, bm) - hamiltonian.H(x, zero)
    left = np.where(a > 0, hamiltonian.H_p(x, ap), 0.0)
    right = np.where(b < 0, hamiltonian.H_p(x, bm), 0.0)
    # Derivatives only where the one-sided gradient is active; elsewhere the
    # branch is constant. np.where evaluates both sides, so silence inf*0.
    with np.errstate(invalid="ignore", over="ignore"):
        dleft = np.where(a > 0, hamiltonian.H_pp(x, np.where(a > 0, ap, 1.0)), 0.0)
        dright = np.where(b < 0, hamiltonian.H_pp(x, np.where(b < 0, bm, -1.0)), 0.0)
    return UpwindTerms(value=value, left=left, right=right, dleft=dleft, dright=dright)
