"""Gradient clipping between backward() and step(), with nn.utils.clip_grad_norm_ and clip_grad_value_."""
import torch
from torch import nn

X = torch.linspace(-2, 2, 64).reshape(-1, 1)
y = 3 * X ** 3 - X + 0.5

model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
# A fixed start (instead of the random default), so the run is the same in any framework.
model[0].weight = nn.Parameter(torch.linspace(-1.5, 1.5, 16).reshape(16, 1))
model[0].bias = nn.Parameter(torch.linspace(-1, 1, 16))
model[2].weight = nn.Parameter(torch.linspace(0.5, -0.5, 16).reshape(1, 16))
model[2].bias = nn.Parameter(torch.zeros(1))

loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
losses, norms = [], []
for step in range(300):
    optimizer.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    total_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
    optimizer.step()
    losses.append(loss.item())
    norms.append(float(total_norm))
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, largest gradient norm before clipping {max(norms):.1f}")
