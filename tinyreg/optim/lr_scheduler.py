"""Learning-rate schedules with torch's names and values, step for step.

A scheduler rewrites each group's ``lr`` at every ``step()`` (call it after ``optimizer.step()``). It also records
``initial_lr`` = α, the base learning rate, so the schedule multiplier of the paper (Algorithm 1/2, line 7/11) is

    η_t = lr_t / α        (:meth:`LRScheduler.get_last_eta`)

which is exactly what optimizers with ``decay="paper"`` read to scale their decay term (θ ← θ·(1 − η_t·λ)).
:class:`CosineAnnealingWarmRestarts` is SGDR's schedule, the one the paper pairs with AdamW (AdamWR).

Where torch computes an lr by a recurrence (cosine annealing updates lr_t from lr_{t−1}) tinyreg uses the same
recurrence, so the values are equal to torch's bit for bit, not just to the closed form's.
"""

import math

from tinyreg.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: ``last_epoch`` counts ``step()`` calls (0 after construction); subclasses define ``get_lr``."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming an optimizer")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial = True             # the construction step keeps the current lrs (t = 0)
        self.step()
        self._initial = False

    def get_lr(self):
        raise NotImplementedError

    def step(self):
        self.last_epoch += 1
        self._set(self.get_lr())

    def _set(self, lrs):
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates the last ``step()`` set, one per group."""
        return self._last_lr

    def get_last_eta(self):
        """The paper's schedule multiplier η_t = lr_t / α per group (1 for a group whose α is 0, as
        :func:`tinyreg.optim.schedule_multiplier`)."""
        return [lr / base if base else 1.0 for lr, base in zip(self._last_lr, self.base_lrs)]

    def _current(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """lr ← lr·γ every ``step_size`` steps: lr_t = α·γ^⌊t/step_size⌋."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class LambdaLR(LRScheduler):
    """lr_t = α·f(t): ``lr_lambda`` is f, or a list of one f per group. Then η_t = f(t) exactly."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(f"Expected {groups} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):
        """Everything but the functions (which cannot be saved without pickle)."""
        return {key: value for key, value in super().state_dict().items() if key != "lr_lambdas"}


class CosineAnnealingLR(LRScheduler):
    """Cosine from α down to ``eta_min`` over ``T_max`` steps (then back up, periodically, as torch does):

        lr_t = η_min + (α − η_min)·(1 + cos(π·t/T_max))/2

    computed, like torch, by the recurrence lr_t = η_min + (lr_{t−1} − η_min)·(1 + cos(πt/T))/(1 + cos(π(t−1)/T)),
    so that other changes to lr (another scheduler, a manual edit) carry through.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return self._current()
        if (t - 1 - T) % (2 * T) == 0:      # the trough, where the ratio below would be 0/0: step up from it
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base in zip(self._current(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current()]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: cosine from α to ``eta_min`` over T_i steps, then restart at α with T_i ← T_i·``T_mult``:

        lr_t = η_min + (α − η_min)·(1 + cos(π·T_cur/T_i))/2,   T_cur = steps since the last restart

    ``step(epoch)`` accepts a fractional epoch (e.g. ``epoch + i/batches``) to anneal within an epoch, as in torch.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base in self.base_lrs]

    def step(self, epoch=None):
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:              # restart
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            self._place(epoch)
        self.last_epoch = math.floor(epoch)
        self._set(self.get_lr())

    def _place(self, epoch):
        """Set T_i and T_cur for an absolute (possibly fractional) epoch: which cycle it falls in, and where."""
        if epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            # cycles 0..n−1 span T_0·(T_mult^n − 1)/(T_mult − 1) epochs; n = the completed cycles
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult ** n
