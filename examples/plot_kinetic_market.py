"""
The kinetic market: prices, fat tails, the paper's findings
===========================================================

The kinetic portfolio model of Trimborn, Pareschi and Frank (2019): agents
move wealth between a stock and a bond by model predictive control, trusting
a fundamentalist or a chartist return estimate; the price moves with their
excess demand (:func:`meanfolio.kinetic.simulate`). With a time-varying
(exponential Ornstein-Uhlenbeck) fundamental price ``s_f`` the price follows it
with overshoots, and its log returns are fat-tailed although those of ``s_f``
are Gaussian: the QQ plot bends away at both ends (findings 1 and 2 of the
paper, :doc:`/guide/kinetic`).
"""

import matplotlib.pyplot as plt

from meanfolio.kinetic import log_returns, observed, preset, qq_normal, simulate, stylized_facts

constant = simulate(preset("long_term_constant"), n_agents=2_000, steps=4_000, seed=1, model="microscopic")
varying = simulate(preset("long_term_varying"), n_agents=20_000, steps=10_000, seed=1)
# returns observed every observation_interval of model time ("daily"), independent of dt
price, fundamental = log_returns(observed(varying)), log_returns(observed(varying, "s_f"))
for name, r in (("price", price), ("fundamental", fundamental)):
    facts = stylized_facts(r)
    print(f"{name:11s} excess kurtosis {facts['excess_kurtosis']:6.2f}, Jarque-Bera p = {facts['jarque_bera_p']:.3g}")

# %%
fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(15, 3.8))
ax0.plot(constant.series["t"], constant.series["S"], label="price S")
ax0.plot(constant.series["t"], constant.series["s_f"], "k--", label="fundamental s_f")
ax0.set(xlabel="t (years)", title="constant s_f: oscillation around it")
ax0.legend(fontsize=8)
ax1.plot(varying.series["t"], varying.series["S"], lw=0.8, label="price S")
ax1.plot(varying.series["t"], varying.series["s_f"], "k", lw=0.8, alpha=0.6, label="fundamental s_f")
ax1.set(xlabel="t (years)", title="exponential-OU s_f: overshoots")
ax1.legend(fontsize=8)
for name, r in (("price", price), ("fundamental", fundamental)):
    q, z = qq_normal(r)
    ax2.plot(q, z, ".", ms=2, label=name)
ax2.plot([-4, 4], [-4, 4], "k:", lw=1)
ax2.set(xlabel="normal quantile", ylabel="standardised log return", title="QQ plot: the price is fat-tailed")
ax2.legend(fontsize=8)
fig.tight_layout()
plt.show()
