"""``tinyreg.optim``: SGD, SGDW, Adam and AdamW written out, fused by Numba, equal to torch.optim.

    opt = tr.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    loss.backward(); opt.step(); opt.zero_grad()

Where things are:

- :mod:`~tinyreg.optim.reference` — the math: one plain NumPy function per optimizer, one equation per line;
- :mod:`~tinyreg.optim.kernels` — the same math as Numba loops over flat buffers (tested bit-identical);
- :mod:`~tinyreg.optim.optimizer`, :mod:`~tinyreg.optim.sgd`, :mod:`~tinyreg.optim.adam` — the classes (validate,
  group, dispatch) and :mod:`~tinyreg.optim.flat`, the flat buffers they keep;
- :mod:`~tinyreg.optim.decay` — the three weight-decay conventions and converters between them;
- :mod:`~tinyreg.optim.decay_groups` — which parameters to decay; :mod:`~tinyreg.optim.lr_scheduler` — schedules.
"""
