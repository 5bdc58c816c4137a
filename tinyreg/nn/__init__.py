"""``tinyreg.nn``: layers, losses, penalties and state dicts with torch.nn's names and semantics.

    from tinyreg import nn
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, 10))
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()

| file             | contents                                                        |
|------------------|-----------------------------------------------------------------|
| parameter.py     | Parameter                                                       |
| module.py        | Module: registration, walking, train/eval, state_dict, repr     |
| container.py     | Sequential, ModuleList                                          |
| linear.py        | Linear, Identity                                                |
| normalization.py | LayerNorm                                                       |
| dropout.py       | Dropout, mc_dropout_predict                                     |
| activation.py    | ReLU, Tanh, Sigmoid, Softmax, LogSoftmax                        |
| flatten.py       | Flatten                                                         |
| loss.py          | MSELoss L1Loss HuberLoss CrossEntropyLoss NLLLoss BCELoss BCEWithLogitsLoss |
| penalties.py     | l2_penalty, l1_penalty                                          |
| functional.py    | the function forms (``F.linear``, ``F.cross_entropy``, ...)     |
| init.py          | in-place initialisers (``init.kaiming_uniform_``, ...)          |
| utils/           | gradient clipping (``nn.utils.clip_grad_norm_``, ...)           |
"""

from tinyreg.nn import functional, init, utils
from tinyreg.nn.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from tinyreg.nn.container import ModuleList, Sequential
from tinyreg.nn.dropout import Dropout, mc_dropout_predict
from tinyreg.nn.flatten import Flatten
from tinyreg.nn.functional import squared_loss
from tinyreg.nn.linear import Identity, Linear
from tinyreg.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss
from tinyreg.nn.module import Module
from tinyreg.nn.normalization import LayerNorm
from tinyreg.nn.parameter import Parameter
from tinyreg.nn.penalties import l1_penalty, l2_penalty

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "Flatten", "HuberLoss", "Identity", "L1Loss",
           "LayerNorm", "Linear", "LogSoftmax", "MSELoss", "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU",
           "Sequential", "Sigmoid", "Softmax", "Tanh", "functional", "init", "l1_penalty", "l2_penalty",
           "mc_dropout_predict", "squared_loss", "utils"]
