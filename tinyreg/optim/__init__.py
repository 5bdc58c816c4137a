"""``tinyreg.optim``: SGD, SGDW, Adam and AdamW written out, fused by Numba, equal to torch.optim.

    opt = tr.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    loss.backward(); opt.step(); opt.zero_grad()

Where things are:

- :mod:`~tinyreg.optim.reference` — the math: one plain NumPy function per optimizer, one equation per line;
- :mod:`~tinyreg.optim.kernels` — the same math as Numba loops over flat buffers (tested bit-identical);
- :mod:`~tinyreg.optim.optimizer`, :mod:`~tinyreg.optim.sgd`, :mod:`~tinyreg.optim.adam` — the classes (validate,
  group, dispatch) and :mod:`~tinyreg.optim.flat`, the flat buffers they keep;
- :mod:`~tinyreg.optim.decay` — the three weight-decay conventions and converters between them;
- :mod:`~tinyreg.optim.trace` — watch a step line by line (:func:`trace`); :mod:`~tinyreg.optim.effective_decay` —
  how much decay reaches each weight (:func:`effective_decay`);
- :mod:`~tinyreg.optim.decay_groups` — which parameters to decay; :mod:`~tinyreg.optim.lr_scheduler` — schedules.
"""

from tinyreg.optim import lr_scheduler
from tinyreg.optim.adam import Adam, AdamW
from tinyreg.optim.backends import get_default_backend, set_default_backend
from tinyreg.optim.decay import (DECAY_CONVENTIONS, decoupled_from_paper, normalized_weight_decay,
                                 paper_from_decoupled)
from tinyreg.optim.decay_groups import DecayReport, decay_groups
from tinyreg.optim.optimizer import Optimizer
from tinyreg.optim.sgd import SGD, SGDW
from tinyreg.optim.effective_decay import effective_decay  # noqa: E402  (after the classes it reads)
from tinyreg.optim.trace import trace  # noqa: E402  (the function shadows the submodule's name: import classes from it)

__all__ = ["Adam", "AdamW", "DECAY_CONVENTIONS", "DecayReport", "Optimizer", "SGD", "SGDW", "decay_groups",
           "decoupled_from_paper", "effective_decay", "get_default_backend", "lr_scheduler",
           "normalized_weight_decay", "paper_from_decoupled", "set_default_backend", "trace"]
