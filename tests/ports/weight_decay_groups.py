"""Weight decay on the weights only, through optimizer parameter groups, as d2l's concise version writes it."""
import torch
from torch import nn
from torch.utils import data

torch.manual_seed(0)
n_train, n_test, num_inputs, batch_size = 20, 100, 200, 5
true_w, true_b = torch.ones((num_inputs, 1)) * 0.01, 0.05


def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


train_data = synthetic_data(true_w, true_b, n_train)
test_data = synthetic_data(true_w, true_b, n_test)
train_iter = data.DataLoader(data.TensorDataset(*train_data), batch_size, shuffle=True)


def evaluate_loss(net, features, labels, loss):
    with torch.no_grad():
        return loss(net(features), labels).mean().item()


def train_concise(wd):
    net = nn.Sequential(nn.Linear(num_inputs, 1))
    for param in net.parameters():
        param.data.normal_()
    loss = nn.MSELoss(reduction='none')
    num_epochs, lr = 100, 0.003
    trainer = torch.optim.SGD([
        {"params": net[0].weight, 'weight_decay': wd},
        {"params": net[0].bias}], lr=lr)
    train_losses = [evaluate_loss(net, *train_data, loss)]
    for epoch in range(num_epochs):
        for X, y in train_iter:
            trainer.zero_grad()
            l = loss(net(X), y)
            l.mean().backward()
            trainer.step()
        if (epoch + 1) % 20 == 0:
            train_losses.append(evaluate_loss(net, *train_data, loss))
    test_loss = evaluate_loss(net, *test_data, loss)
    print('L2 norm of w:', net[0].weight.norm().item(), 'test loss:', test_loss)
    return train_losses, test_loss, net[0].weight.norm().item(), net[0].bias.item()


losses, test_loss_no_decay, norm_no_decay, _ = train_concise(0)
losses_decay, test_loss_decay, norm_decay, _ = train_concise(3)
