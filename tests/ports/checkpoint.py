"""Save a training checkpoint and resume from it (the PyTorch "saving and loading a general checkpoint" recipe)."""
import os
import tempfile

import torch
from torch import nn

X = torch.linspace(-1, 1, 32).reshape(-1, 1)
y = 2 * X - 1


def make_model():
    model = nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 1))
    # A fixed start, so the run is the same in any framework.
    model[0].weight = nn.Parameter(torch.linspace(-1, 1, 8).reshape(8, 1))
    model[0].bias = nn.Parameter(torch.linspace(0.5, -0.5, 8))
    model[2].weight = nn.Parameter(torch.linspace(0.3, -0.3, 8).reshape(1, 8))
    model[2].bias = nn.Parameter(torch.zeros(1))
    return model


def train(model, optimizer, steps):
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


model = make_model()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
losses = train(model, optimizer, 50)

PATH = os.path.join(tempfile.mkdtemp(), "model.pt")
torch.save({
    'epoch': 50,
    'model_state_dict': model.state_dict(),
    'optimizer_state_dict': optimizer.state_dict(),
    'loss': losses[-1],
}, PATH)
continued = train(model, optimizer, 50)  # the run as if never interrupted

model = make_model()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
checkpoint = torch.load(PATH)
model.load_state_dict(checkpoint['model_state_dict'])
optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
epoch = checkpoint['epoch']
loss = checkpoint['loss']
model.eval()
with torch.no_grad():
    reloaded_loss = nn.functional.mse_loss(model(X), y).item()
model.train()
resumed = train(model, optimizer, 50)
losses += resumed
os.remove(PATH)
print(f"epoch {epoch}, saved loss {loss:.5f}, resumed to {resumed[-1]:.5f} (uninterrupted: {continued[-1]:.5f})")
