"""The reference steps: every optimizer's update written out, one equation per statement.

These plain functions over NumPy arrays and Python floats are the single source of the math. The optimizers' NumPy
backend runs them on flat buffers (in cache-sized chunks), the Numba kernels (:mod:`tinyreg.optim.kernels`) mirror
them line by line and are tested bit-identical to them, and :mod:`tinyreg.optim.trace` records their intermediates.
Set a breakpoint and step through: names are the paper's (``g_t``, ``m_t``, ``v_t``, ``m_hat``, ``v_hat``,
``eta_t``, ``lambda_``) and each comment cites the line of Algorithm 1 or 2 of Loshchilov & Hutter (2019), or torch's
documented algorithm where torch differs from the paper. Inputs are never modified; each function returns the new
arrays.

Weight decay, three conventions (:mod:`tinyreg.optim.decay`), one switch ``decay``; the position of one line is the
whole lesson, as in optax:

- ``"l2"`` — **coupled**: ``g_t ← ∇f_t + λθ`` *before* the moments (Algorithm 2, line 6). λθ is averaged into m and,
  in Adam, divided by √v̂ like any gradient. torch's SGD and Adam.
- ``"decoupled"`` — θ shrinks directly, ``θ ← θ·(1 − lr_t·λ)``, outside the moments: scaled by the learning rate
  lr_t = α·η_t. torch's AdamW, optax, Keras, tinygrad.
- ``"paper"`` — θ shrinks directly, ``θ ← θ·(1 − η_t·λ)``: scaled by the schedule multiplier η_t alone, the decay term
  of line 12 (Alg. 2) / line 9 (Alg. 1). Same λθ, different unit: λ_paper = α·λ_decoupled.

The bias corrections of lines 9–10 multiply by the reciprocal 1/(1 − βᵗ), computed once per step, instead of
dividing every element by 1 − βᵗ: the same quantity up to one rounding, and one division per element left instead
of three (division and square root are what bound the fused kernel's speed when the data sits in cache).

Scalars: pass Python floats. NumPy treats them as "weak" and rounds them to θ's dtype when they meet an array, the
same rounding torch applies, so float32 steps stay float32. ``lr`` is the *current* learning rate lr_t = α·η_t.

The ``record`` hook
-------------------
Every function takes ``record=None``. When given, it is called right after each named intermediate::

    record(name, value, equation, line)

- ``name``: the variable, e.g. ``"m_t"``; a name can repeat when a later line refines it (``g_t`` after maximize,
  after L2 decay) — the calls come in execution order;
- ``value``: an ndarray of θ's shape (per-element quantities) or a Python float (per-step quantities such as the bias
  corrections); it may alias an input or another recorded value, so copy it if you keep it past the call;
- ``equation``: the statement in Unicode math, e.g. ``"m_t ← β₁·m_{t−1} + (1 − β₁)·g_t"``;
- ``line``: where it comes from, e.g. ``"Alg. 2, line 7"`` or ``"torch SGD"``.

Only lines that run are recorded: the coupled line g_t ← g_t + λ·θ only when λ ≠ 0 and ``decay="l2"``; the decoupled
lines keep ← 1 − …·λ and θ ← θ·keep whenever ``decay`` is "decoupled" or "paper", also at λ = 0 (a multiplication by
1, as in the kernels' ``theta * keep``).
"""

import numpy as np

from tinyreg.optim.fma import fma


def _ignore(name, value, equation, line):
    """The hook used when none is given."""


def decoupled_decay(theta, decay, lr, eta_t, lambda_, paper_line, record):
    """The decoupled decay step: θ shrinks directly, outside the gradient and the moments.

    ``keep``, the decay factor, is the fraction of θ_{t−1} that survives: one Python float per step, the kernels'
    ``keep``. ``"decoupled"``: keep = 1 − lr_t·λ, scaled by the learning rate (torch's AdamW); ``"paper"``:
    keep = 1 − η_t·λ, scaled by the schedule multiplier alone (the paper's ``paper_line``). Then θ ← θ_{t−1}·keep.
    ``"l2"``: nothing here — the coupled decay already went into g_t. Where a step calls this is the lesson.
    """
    if decay == "decoupled":
        keep = 1 - lr * lambda_                                         # torch's AdamW: scaled by lr_t = α·η_t
        line = "decoupled (torch AdamW form)"
        record("keep", keep, "keep ← 1 − lr_t·λ", line)
    elif decay == "paper":
        keep = 1 - eta_t * lambda_                                      # the paper: scaled by η_t alone
        line = paper_line
        record("keep", keep, "keep ← 1 − η_t·λ", line)
    else:
        return theta                                                    # "l2": λθ already went into g_t
    theta = theta * keep                                                # θ ← θ_{t−1}·keep
    record("theta", theta, "θ ← θ_{t−1}·keep", line)
    return theta


def sgd_step(theta, grad, b=None, *, lr, momentum=0.0, dampening=0.0, nesterov=False, maximize=False,
             lambda_=0.0, decay="l2", eta_t=1.0, record=None):
    """torch's SGD: momentum buffer ``b`` outside the learning rate, optional dampening τ and Nesterov.

    ``b`` is the momentum buffer b_{t−1}; ``None`` on the first step, when torch sets b_1 = g_1 (no dampening).
    Every ``x + a·y`` is rounded once (:func:`~tinyreg.optim.fma.fma`) like torch's ``add(alpha=a)``, so with
    ``decay="l2"`` this equals ``torch.optim.SGD`` bit for bit. Returns ``(theta_t, b_t)``; ``b_t`` is None when
    ``momentum == 0`` (torch keeps no buffer then).
    """
    record = record or _ignore
    g_t = -grad if maximize else grad                                   # torch: maximize follows +∇f
    record("g_t", g_t, "g_t ← −∇f_t(θ_{t−1})" if maximize else "g_t ← ∇f_t(θ_{t−1})", "Alg. 1, line 5")
    if decay == "l2" and lambda_ != 0:
        g_t = fma(lambda_, theta, g_t)                                  # Alg. 1 line 6: coupled, λθ joins g_t
        record("g_t", g_t, "g_t ← g_t + λ·θ_{t−1}", "Alg. 1, line 6")
    b_t = None
    if momentum != 0:
        b_t = g_t if b is None else fma(1 - dampening, g_t, momentum * b)  # torch: b_t ← μ·b_{t−1} + (1 − τ)·g_t
        record("b_t", b_t, "b_1 ← g_1" if b is None else "b_t ← μ·b_{t−1} + (1 − τ)·g_t", "torch SGD")
        g_t = fma(momentum, b_t, g_t) if nesterov else b_t              # torch: Nesterov looks one step ahead
        record("g_t", g_t, "g_t ← g_t + μ·b_t" if nesterov else "g_t ← b_t", "torch SGD")
    theta = decoupled_decay(theta, decay, lr, eta_t, lambda_, "Alg. 1, line 9", record)  # Alg. 1 line 9 (SGDW)
    theta_t = fma(-lr, g_t, theta)                                      # torch: θ_t ← θ_{t−1} − γ·g_t
    record("theta_t", theta_t, "θ_t ← θ − γ·g_t", "torch SGD")
    return theta_t, b_t


def sgdw_step(theta, grad, m, *, lr, beta1=0.0, maximize=False, lambda_=0.0, decay="paper", eta_t=1.0,
              record=None):
    """Algorithm 1 of the paper (SGD with momentum; SGDW when the decay is decoupled), as printed.

    Unlike torch's SGD the learning rate sits *inside* the momentum buffer (line 8), m_0 = 0, and there is no
    dampening or Nesterov. With a constant learning rate and no dampening it matches torch's SGD up to rounding.
    Returns ``(theta_t, m_t)``.
    """
    record = record or _ignore
    g_t = -grad if maximize else grad                                   # Alg. 1 line 5 (maximize: ascend)
    record("g_t", g_t, "g_t ← −∇f_t(θ_{t−1})" if maximize else "g_t ← ∇f_t(θ_{t−1})", "Alg. 1, line 5")
    if decay == "l2" and lambda_ != 0:
        g_t = fma(lambda_, theta, g_t)                                  # Alg. 1 line 6: coupled, λθ joins g_t
        record("g_t", g_t, "g_t ← ∇f_t(θ_{t−1}) + λ·θ_{t−1}", "Alg. 1, line 6")
    record("eta_t", eta_t, "η_t ← SetScheduleMultiplier(t)", "Alg. 1, line 7")
    m_t = beta1 * m + lr * g_t                                          # Alg. 1 line 8, with η_t·α = lr_t
    record("m_t", m_t, "m_t ← β₁·m_{t−1} + η_t·α·g_t", "Alg. 1, line 8")
    theta = decoupled_decay(theta, decay, lr, eta_t, lambda_, "Alg. 1, line 9", record)  # Alg. 1 line 9 (SGDW)
    theta_t = theta - m_t                                               # Alg. 1 line 9
    record("theta_t", theta_t, "θ_t ← θ − m_t", "Alg. 1, line 9")
    return theta_t, m_t


def adam_step(theta, grad, m, v, v_max=None, *, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, lambda_=0.0,
              decay="l2", eta_t=1.0, amsgrad=False, maximize=False, record=None):
    """Algorithm 2 of the paper: Adam (``decay="l2"``, torch's Adam) or AdamW (``"decoupled"``: torch's AdamW;
    ``"paper"``: the paper's own scaling).

    ``t`` is this step's number (1 on the first step); ``m``, ``v`` (and ``v_max`` with AMSGrad) are the moments after
    step t − 1, zeros before the first. Returns ``(theta_t, m_t, v_t, v_max_t)``; ``v_max_t`` is None without AMSGrad.
    torch computes line 12 as θ − (lr/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε) with a ±1-ulp square root, so float32 results
    differ from torch's by a few ulps (see the tests for the bound).
    """
    record = record or _ignore
    g_t = -grad if maximize else grad                                   # Alg. 2 line 5 (maximize: ascend)
    record("g_t", g_t, "g_t ← −∇f_t(θ_{t−1})" if maximize else "g_t ← ∇f_t(θ_{t−1})", "Alg. 2, line 5")
    if decay == "l2" and lambda_ != 0:
        g_t = fma(lambda_, theta, g_t)                                  # Alg. 2 line 6: coupled, λθ joins g_t
        record("g_t", g_t, "g_t ← ∇f_t(θ_{t−1}) + λ·θ_{t−1}", "Alg. 2, line 6")
    m_t = beta1 * m + (1 - beta1) * g_t                                 # Alg. 2 line 7
    record("m_t", m_t, "m_t ← β₁·m_{t−1} + (1 − β₁)·g_t", "Alg. 2, line 7")
    v_t = beta2 * v + (1 - beta2) * g_t * g_t                           # Alg. 2 line 8
    record("v_t", v_t, "v_t ← β₂·v_{t−1} + (1 − β₂)·g_t²", "Alg. 2, line 8")
    m_hat = m_t * (1 / (1 - beta1 ** t))                                # Alg. 2 line 9 (one division per step)
    record("m_hat", m_hat, "m̂_t ← m_t / (1 − β₁ᵗ)", "Alg. 2, line 9")
    v_max_t = None
    if amsgrad:
        v_max_t = np.maximum(v_max, v_t)                                # AMSGrad: the largest v so far
        record("v_max_t", v_max_t, "v_t^max ← max(v_{t−1}^max, v_t)", "torch Adam (amsgrad)")
        v_hat = v_max_t * (1 / (1 - beta2 ** t))                        # Alg. 2 line 10, with v_t^max for v_t
        record("v_hat", v_hat, "v̂_t ← v_t^max / (1 − β₂ᵗ)", "Alg. 2, line 10")
    else:
        v_hat = v_t * (1 / (1 - beta2 ** t))                            # Alg. 2 line 10
        record("v_hat", v_hat, "v̂_t ← v_t / (1 − β₂ᵗ)", "Alg. 2, line 10")
    record("eta_t", eta_t, "η_t ← SetScheduleMultiplier(t)", "Alg. 2, line 11")
    theta = decoupled_decay(theta, decay, lr, eta_t, lambda_, "Alg. 2, line 12", record)  # Alg. 2 line 12 (AdamW)
    theta_t = theta - lr * m_hat / (np.sqrt(v_hat) + eps)               # Alg. 2 line 12, with η_t·α = lr_t
    record("theta_t", theta_t, "θ_t ← θ − η_t·α·m̂_t / (√v̂_t + ε)", "Alg. 2, line 12")
    return theta_t, m_t, v_t, v_max_t
