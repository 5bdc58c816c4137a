"""Dropout written by hand, as d2l writes it (dropout_layer, an MLP that applies it only in training)."""
import torch
from torch import nn

torch.manual_seed(0)


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
kept_all = dropout_layer(X, 0.)
dropped_all = dropout_layer(X, 1.)
half = dropout_layer(X, 0.5)
print(kept_all)
print(half)
print(dropped_all)

num_inputs, num_outputs, num_hiddens1, num_hiddens2 = 20, 4, 64, 64
dropout1, dropout2 = 0.2, 0.5


class Net(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, is_training=True):
        super(Net, self).__init__()
        self.num_inputs = num_inputs
        self.training = is_training
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        if self.training:
            H1 = dropout_layer(H1, dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training:
            H2 = dropout_layer(H2, dropout2)
        out = self.lin3(H2)
        return out


net = Net(num_inputs, num_outputs, num_hiddens1, num_hiddens2)

# Four noisy classes around random centres.
centres = 2 * torch.randn(num_outputs, num_inputs)
labels = torch.randint(0, num_outputs, (512,))
features = centres[labels] + torch.randn(512, num_inputs)

num_epochs, lr, batch_size = 10, 0.1, 64
loss = nn.CrossEntropyLoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=lr)


def evaluate_loss(net):
    net.eval()
    with torch.no_grad():
        value = loss(net(features), labels).mean().item()
    net.train()
    return value


losses = [evaluate_loss(net)]
for epoch in range(num_epochs):
    for i in range(0, len(features), batch_size):
        Xb, yb = features[i:i + batch_size], labels[i:i + batch_size]
        l = loss(net(Xb), yb)
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
    losses.append(evaluate_loss(net))
net.eval()
with torch.no_grad():
    accuracy = (net(features).argmax(1) == labels).type(torch.float).mean().item()
print(f'loss {losses[-1]:.3f}, train acc {accuracy:.3f}')
