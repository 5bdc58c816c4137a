"""Weight penalties added to a loss to regularize: the L2 (weight decay) and L1 (sparsity) norms.

    l2_penalty(w) = Σ w² / 2     gradient  w          every weight shrinks in proportion to its size
    l1_penalty(w) = Σ |w|        gradient  sign(w)    every weight is pushed toward 0 by the same amount

Training on ``loss + λ · l2_penalty(w)`` with SGD multiplies w by (1 − ηλ) each step: "weight decay". For a whole
model, sum over the parameters to penalize, usually the weights only: ``sum(l2_penalty(p) for p in weights)``.
"""


def l2_penalty(w):
    """Σ w² / 2 (the ½ makes the gradient exactly w)."""
    return (w * w).sum() / 2


def l1_penalty(w):
    """Σ |w| (subgradient sign(w), 0 at w = 0)."""
    return w.abs().sum()
