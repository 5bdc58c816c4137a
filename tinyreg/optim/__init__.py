"""``tinyreg.optim``: SGD, SGDW, Adam, AdamW, RMSprop, Adagrad, NAdam, RAdam and Lion written out, fused by Numba,
equal to torch.optim (Lion to its paper).

    opt = tr.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    loss.backward(); opt.step(); opt.zero_grad()

Where things are:

- one file per optimizer (:mod:`~tinyreg.optim.sgd`, :mod:`~tinyreg.optim.adam`, :mod:`~tinyreg.optim.rmsprop`,
  ...): its reference step (the math, one equation per line), its Numba element kernel (tested bit-identical) and its
  class, which declares everything else the package needs (see :mod:`~tinyreg.optim.optimizer`);
- :mod:`~tinyreg.optim.optimizer` — the base class (groups, the atomic step, state dicts) and :data:`OPTIMIZERS`;
  :mod:`~tinyreg.optim.flat`, the flat buffers; :mod:`~tinyreg.optim.kernels`, the loops; :mod:`~tinyreg.optim.backends`;
- :mod:`~tinyreg.optim.reference` and :mod:`~tinyreg.optim.decay` — the weight-decay steps and conventions;
- :mod:`~tinyreg.optim.trace` — watch a step line by line (:func:`trace`); :mod:`~tinyreg.optim.effective_decay` —
  how much decay reaches each weight (:func:`effective_decay`);
- :mod:`~tinyreg.optim.decay_groups` — which parameters to decay; :mod:`~tinyreg.optim.lr_scheduler` — schedules.

Every module of this package is imported here, so an optimizer file dropped into the folder is registered in
:data:`OPTIMIZERS` and exported (``tr.optim.RMSprop``) without touching any other file.
"""

import importlib
import pkgutil

from tinyreg.optim import lr_scheduler
from tinyreg.optim.backends import get_default_backend, set_default_backend
from tinyreg.optim.decay import (DECAY_CONVENTIONS, decoupled_from_paper, normalized_weight_decay,
                                 paper_from_decoupled)
from tinyreg.optim.decay_groups import DecayReport, decay_groups
from tinyreg.optim.optimizer import OPTIMIZERS, Optimizer, schedule_multiplier

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
globals().update({cls.__name__: cls for cls in OPTIMIZERS.values()})

from tinyreg.optim.effective_decay import effective_decay  # noqa: E402
from tinyreg.optim.trace import trace  # noqa: E402  (the function shadows the submodule's name: import classes from it)

__all__ = ["DECAY_CONVENTIONS", "DecayReport", "OPTIMIZERS", "Optimizer", "decay_groups", "decoupled_from_paper",
           "effective_decay", "get_default_backend", "lr_scheduler", "normalized_weight_decay",
           "paper_from_decoupled", "schedule_multiplier", "set_default_backend", "trace",
           *(cls.__name__ for cls in OPTIMIZERS.values())]
