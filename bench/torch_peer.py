"""PyTorch peer for bench/train-throughput: reference models A and B, one thread, batch 64 (or argv[4]).

Usage: /usr/bin/python3 bench/torch_peer.py MODEL STEPS [WARMUP]
Prints one JSON line: {"model", "samplesPerS", "params", "steps", "torch"}.
Model A trains on random 28x28 images with SGD, model B on random token ids with Adam; the
throughput of a step does not depend on the values.
"""
import json
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(1)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        hidden = cin * 4
        self.residual = stride == 1 and cin == cout
        self.body = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout),
        )

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


def model_a():
    layers = [nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6()]
    cin = 16
    for cout, stride in [(16, 1), (24, 2), (24, 1), (32, 2), (32, 1), (64, 1)]:
        layers.append(InvertedResidual(cin, cout, stride))
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


class ModelB(nn.Module):
    def __init__(self, vocab=5000, seq=64, d=64, heads=4, ffn=128, layers=2, classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(seq, d))
        layer = nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.0, activation='relu', batch_first=True, norm_first=False)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, classes)

    def forward(self, tokens):
        x = self.embed(tokens) + self.pos
        return self.head(self.encoder(x).mean(dim=1))


def main():
    which = sys.argv[1]
    steps = int(sys.argv[2])
    warmup = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    torch.manual_seed(0)
    if which == 'A':
        # Channels-last sends the depthwise convolutions' backward pass to oneDNN; in the default
        # layout this build's depthwise backward is ~4x slower, and the peer should be PyTorch's best.
        model = model_a().to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        x = torch.rand(batch, 1, 28, 28).to(memory_format=torch.channels_last)
        y = torch.randint(0, 10, (batch,))
    else:
        model = ModelB()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.randint(0, 5000, (batch, 64))
        y = torch.randint(0, 2, (batch,))
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    loss_fn = nn.CrossEntropyLoss()
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    dt = time.perf_counter() - t0
    print(json.dumps({'model': which, 'samplesPerS': steps * batch / dt, 'params': params, 'steps': steps,
                      'torch': torch.__version__}))


if __name__ == '__main__':
    main()
