"""``python -m tinyreg``: the command line.

    python -m tinyreg                 a short tour of autodiff and regularization
"""

import argparse
import sys

import numpy as np

import tinyreg as tr


def autodiff_demo() -> None:
    """Fit y = 3x - 1 by gradient descent with an L2 penalty, showing the graph and its gradients."""
    tr.manual_seed(0)
    x = tr.randn(64, dtype=tr.float64)
    y = 3 * x - 1 + 0.1 * tr.randn(64, dtype=tr.float64)
    w = tr.tensor(0.0, requires_grad=True, dtype=tr.float64)
    b = tr.tensor(0.0, requires_grad=True, dtype=tr.float64)
    lam = 0.1
    print("Fit y = w·x + b to data from y = 3x - 1, loss = mean((w·x + b - y)²) + λ·w²/2 with λ = 0.1\n")
    for step in range(61):
        loss = ((w * x + b - y) ** 2).mean() + lam * w**2 / 2
        loss.backward()
        if step % 15 == 0:
            print(f"step {step:2d}  loss {loss.item():8.4f}  w {w.item():7.4f}  b {b.item():7.4f}  "
                  f"dL/dw {w.grad.item():8.4f}  dL/db {b.grad.item():8.4f}")
        with tr.no_grad():
            w.data -= 0.1 * w.grad
            b.data -= 0.1 * b.grad
        w.grad = b.grad = None
    # Setting both derivatives to 0: (mean(x²) + λ/2)·w + mean(x)·b = mean(x·y) and mean(x)·w + b = mean(y).
    xs, ys = x.data, y.data
    w_star = np.linalg.solve([[np.mean(xs**2) + lam / 2, np.mean(xs)], [np.mean(xs), 1.0]],
                             [np.mean(xs * ys), np.mean(ys)])[0]
    print(f"\nclosed-form ridge optimum w* = {w_star:.4f}; gradient descent reached w = {w.item():.4f}")
    print("The L2 penalty shrinks w towards 0 (here below the true slope 3). Checked by tr.gradcheck:",
          tr.gradcheck(lambda w: ((w * x + b.detach() - y) ** 2).mean() + lam * w**2 / 2, (w.detach().requires_grad_(),)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinyreg", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    autodiff_demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
