"""Concise linear regression, as d2l writes it: TensorDataset, DataLoader, nn.Linear, nn.MSELoss, optim.SGD."""
import torch
from torch import nn
from torch.utils import data

torch.manual_seed(0)
true_w = torch.tensor([2, -3.4])
true_b = 4.2
X = torch.normal(0, 1, (1000, len(true_w)))
y = (torch.matmul(X, true_w) + true_b + torch.normal(0, 0.01, (1000,))).reshape((-1, 1))


def load_array(data_arrays, batch_size, is_train=True):
    """Construct a PyTorch data iterator."""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


batch_size = 10
data_iter = load_array((X, y), batch_size)
print(next(iter(data_iter)))

net = nn.Sequential(nn.Linear(2, 1))
net[0].weight.data.normal_(0, 0.01)
net[0].bias.data.fill_(0)
loss = nn.MSELoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.03)

losses = [loss(net(X), y).item()]
num_epochs = 3
for epoch in range(num_epochs):
    for features, labels in data_iter:
        l = loss(net(features), labels)
        trainer.zero_grad()
        l.backward()
        trainer.step()
    l = loss(net(X), y)
    losses.append(l.item())
    print(f'epoch {epoch + 1}, loss {l:f}')

w = net[0].weight.data
b = net[0].bias.data
w_error = (true_w - w.reshape(true_w.shape)).abs().max().item()
b_error = abs(true_b - b.item())
print('error in estimating w:', true_w - w.reshape(true_w.shape))
print('error in estimating b:', true_b - b)
