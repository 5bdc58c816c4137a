"""Fit y = sin(x) with a cubic a + b x + c x^2 + d x^3 by autograd and manual updates (the PyTorch tutorial)."""
import math

import torch

dtype = torch.float
device = torch.device("cpu")

x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

# Deterministic start (the tutorial draws torch.randn): both frameworks then follow the same trajectory.
a = torch.zeros((), device=device, dtype=dtype, requires_grad=True)
b = torch.zeros((), device=device, dtype=dtype, requires_grad=True)
c = torch.zeros((), device=device, dtype=dtype, requires_grad=True)
d = torch.zeros((), device=device, dtype=dtype, requires_grad=True)

learning_rate = 1e-6
losses = []
for t in range(500):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    losses.append(loss.item())
    if t % 100 == 99:
        print(t, loss.item())
    loss.backward()

    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad

        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

coefficients = [a.item(), b.item(), c.item(), d.item()]
print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
