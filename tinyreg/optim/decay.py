"""The three weight-decay conventions, the converter between the decoupled two, and normalized weight decay.

Every optimizer takes ``decay=`` and puts the decay term in a different place (see the reference steps):

========== ================================ ============================= ====================================
decay      update                           decay scaled by               who uses it
========== ================================ ============================= ====================================
"l2"       g_t ← ∇f_t + λ·θ_{t−1}           the whole optimizer (for      torch SGD/Adam, Alg. 1/2 line 6
           (coupled: before the moments)    Adam: lr/(√v̂+ε), per weight)
"decoupled" θ ← θ·(1 − lr_t·λ)              the learning rate lr_t        torch AdamW, optax, Keras, tinygrad
"paper"    θ ← θ·(1 − η_t·λ)                the schedule multiplier η_t   Alg. 1 line 9, Alg. 2 line 12
========== ================================ ============================= ====================================

With lr_t = α·η_t the two decoupled forms are the same update when λ_paper = α·λ_decoupled
(:func:`paper_from_decoupled`, :func:`decoupled_from_paper`). They differ in what a hyperparameter search over
α does: under "decoupled" changing α also changes the effective decay, under "paper" it does not — the
paper's point that λ and α become separable. For plain SGD without momentum "l2" and "decoupled" with the same λ
are the same update (Proposition 1, in the paper's units: "l2" with λ/α equals "paper" with λ); for Adam no λ makes
"l2" equal to either decoupled form (Proposition 2).
"""

import math

DECAY_CONVENTIONS = ("l2", "decoupled", "paper")


def paper_from_decoupled(weight_decay: float, lr: float) -> float:
    """λ_paper = α·λ_decoupled: the paper-convention decay equal to torch-style ``weight_decay`` at base lr α."""
    return weight_decay * lr


def decoupled_from_paper(weight_decay: float, lr: float) -> float:
    """λ_decoupled = λ_paper / α: the torch-style ``weight_decay`` equal to the paper's λ at base lr α."""
    return weight_decay / lr


def normalized_weight_decay(lambda_norm: float, batch_size: int, n_train: int, epochs: float) -> float:
    """λ = λ_norm·√(b / (B·T)) (the paper's appendix): b the batch size, B the training points, T the epochs.

    Makes one λ_norm (the paper uses about 0.025–0.05) work across run lengths: the total decay applied over
    B·T/b steps then stays comparable. The result is a per-step decay in the paper's convention.
    """
    return lambda_norm * math.sqrt(batch_size / (n_train * epochs))
