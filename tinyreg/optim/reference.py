"""The reference steps' shared parts: the conventions, the ``record`` hook and the two named decay steps.

Each optimizer's reference step lives in its own file (``sgd.py``'s ``sgd_step``, ``adam.py``'s ``adam_step``,
``rmsprop.py``'s ``rmsprop_step``, ...): a plain function over NumPy arrays and Python floats, the single source of
its math. The optimizers' NumPy backend runs it on flat buffers (in cache-sized chunks), the optimizer's Numba element
kernel mirrors it line by line and is tested bit-identical to it, and :mod:`tinyreg.optim.trace` records its
intermediates. This module holds what every reference step shares.
Set a breakpoint and step through: names are the paper's (``g_t``, ``m_t``, ``v_t``, ``m_hat``, ``v_hat``,
``eta_t``, ``lambda_``) and each comment cites the line of Algorithm 1 or 2 of Loshchilov & Hutter (2019), or torch's
documented algorithm where torch differs from the paper. Inputs are never modified; each function returns the new
arrays.

Weight decay, three conventions (:mod:`tinyreg.optim.decay`), one switch ``decay``, two named steps that every
reference step calls: :func:`coupled_decay` (λθ joins the gradient, before anything else sees it) and
:func:`decoupled_decay` (θ shrinks directly). The position of these calls is the whole lesson, as in optax:

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

from tinyreg.optim.fma import fma


REMOVED = "taken off θ this step"     # the source column of the trace's "decay" lines (what the decay removed)


def ignore(name, value, equation, line):
    """The hook used when none is given."""


def gradient(grad, maximize, line, record):
    """g_t ← ∇f_t(θ_{t−1}), or −∇f_t with ``maximize`` (torch negates the gradient first)."""
    g_t = -grad if maximize else grad
    record("g_t", g_t, "g_t ← −∇f_t(θ_{t−1})" if maximize else "g_t ← ∇f_t(θ_{t−1})", line)
    return g_t


PAPER_L2 = "g_t ← ∇f_t(θ_{t−1}) + λ·θ_{t−1}"     # line 6 of Algorithms 1 and 2, as printed


def coupled_decay(g_t, theta, decay, lambda_, line, record, equation="g_t ← g_t + λ·θ_{t−1}"):
    """The coupled decay step (``decay="l2"``): g_t ← g_t + λ·θ_{t−1}, rounded once like torch's
    ``grad.add(param, alpha=λ)``. Everything after this line treats λθ as part of the gradient. ``equation`` is
    how the trace prints it (:data:`PAPER_L2` for the paper's own algorithms)."""
    if decay != "l2" or lambda_ == 0:
        return g_t
    g_t = fma(lambda_, theta, g_t)
    record("g_t", g_t, equation, line)
    return g_t


KEEP_EQUATION = {"decoupled": "keep ← 1 − lr_t·λ", "paper": "keep ← 1 − η_t·λ"}


def keep_factor(decay, lr, eta_t, lambda_) -> float:
    """The fraction of θ_{t−1} the decoupled decay keeps (one Python float per step, also the kernels' ``keep``)."""
    keep = 1.0                                                          # "l2": λθ went into g_t instead
    if decay == "decoupled":
        keep = 1 - lr * lambda_                                         # torch's AdamW: scaled by lr_t = α·η_t
    elif decay == "paper":
        keep = 1 - eta_t * lambda_                                      # the paper: scaled by η_t alone
    return keep


def decoupled_decay(theta, decay, lr, eta_t, lambda_, paper_line, record):
    """The decoupled decay step: θ shrinks directly, outside the gradient and the moments.

    ``keep``, the decay factor (:func:`keep_factor`), is one Python float per step, the kernels' ``keep``; then
    θ ← θ_{t−1}·keep. ``"l2"``: nothing here — the coupled decay already went into g_t. ``paper_line`` is the line of
    the paper this form comes from. Where a step calls this is the lesson.
    """
    if decay == "l2":
        return theta
    line = paper_line if decay == "paper" else "decoupled (torch AdamW form)"
    keep = keep_factor(decay, lr, eta_t, lambda_)
    record("keep", keep, KEEP_EQUATION[decay], line)
    theta = theta * keep                                                # θ ← θ_{t−1}·keep
    record("theta", theta, "θ ← θ_{t−1}·keep", line)
    return theta
