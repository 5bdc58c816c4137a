"""The floor for bench_train: the same training step written by hand in NumPy, with no graph and no Tensor.

Forward and backward of the dropout MLP spelled out (the chain rule done on paper), gradients written in place
into the optimizer's flat gradient buffer, then tinyreg's own ``Adam.step()``. Against it, tinyreg's row shows what
the autodiff engine and ``nn`` cost: the matmuls, masks and the update are the same work in both.

    z1 = x W1ᵀ + b1,  h1 = relu(z1) ⊙ d1        d_k = keep mask / (1 − p_k)   (train mode)
    z2 = h1 W2ᵀ + b2, h2 = relu(z2) ⊙ d2
    z3 = h2 W3ᵀ + b3, L = mean_i (logsumexp(z3_i) − z3_{i,y_i})

    dz3 = (softmax(z3) − onehot(y)) / N
    dW3 = dz3ᵀ h2,  db3 = Σ_i dz3,  dz2 = (dz3 W3) ⊙ d2 ⊙ [z2 > 0],  and the same again for layer 2 and 1
"""

import numpy as np


class HandWrittenMLP:
    """Three Linear layers of a tinyreg MLP, copied as Parameters, trained by a hand-written step."""

    def __init__(self, tinyreg_mlp, dropout, lr):
        from tinyreg import optim, zeros_like
        from tinyreg.nn import Parameter

        linears = [layer for layer in tinyreg_mlp if type(layer).__name__ == "Linear"]
        self.params = []
        for layer in linears:
            self.params += [Parameter(np.array(layer.weight)), Parameter(np.array(layer.bias))]
        for p in self.params:
            p.grad = zeros_like(p)
        self.dropout = dropout
        self.training = True
        self.optimizer = optim.Adam(self.params, lr=lr)  # moves data and grads into flat buffers (views)

    def loss_and_grads(self, x, y):
        """Forward and backward; gradients land in ``p.grad``'s arrays (the flat buffer's views) in place."""
        from tinyreg.random import generator

        w1, b1, w2, b2, w3, b3 = (np.asarray(p) for p in self.params)
        g_w1, g_b1, g_w2, g_b2, g_w3, g_b3 = (np.asarray(p.grad) for p in self.params)
        masks = []
        h = x
        hidden = []
        for w, b, p in ((w1, b1, self.dropout[0]), (w2, b2, self.dropout[1])):
            z = h @ w.T
            z += b
            keep = (generator().random(z.shape) >= p) * np.float32(1 / (1 - p)) if self.training else 1
            mask = (z > 0) * keep
            hidden.append(h)
            masks.append(mask)
            h = z * mask
        z3 = h @ w3.T
        z3 += b3
        shifted = z3 - z3.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(len(y))
        loss = -log_p[rows, y].mean()

        dz = np.exp(log_p)
        dz[rows, y] -= 1
        dz /= len(y)
        np.matmul(dz.T, h, out=g_w3)
        np.sum(dz, axis=0, out=g_b3)
        for (w, g_w, g_b, h_in), mask, w_next in zip(((w2, g_w2, g_b2, hidden[1]), (w1, g_w1, g_b1, hidden[0])),
                                                     masks[::-1], (w3, w2)):
            dz = (dz @ w_next) * mask
            np.matmul(dz.T, h_in, out=g_w)
            np.sum(dz, axis=0, out=g_b)
        return loss

    def step_fn(self, x, y):
        def step():
            loss = self.loss_and_grads(x, y)
            self.optimizer.step()  # no zero_grad: the next backward overwrites the gradients in place
            return loss

        return step
