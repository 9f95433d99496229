"""Independent reference counts for test/baselines: rebuilds torchvision's resnet50 and mobilenet_v2 and
Hugging Face's BertModel / DistilBertModel (the published configs) from torch.nn modules, and prints
their trainable parameters and multiply-adds per sample (convolutions, linear maps and attention
matmuls, greennas's convention) at 224x224x3 and at sequence 128, as JSON.
torchvision and transformers are not installed here, so the module layouts are written out."""
import json
import torch
from torch import nn

MACS = [0]


def conv_hook(m, inp, out):
    k = m.kernel_size[0] * m.kernel_size[1]
    MACS[0] += out.shape[2] * out.shape[3] * k * (m.in_channels // m.groups) * m.out_channels


def linear_hook(m, inp, out):
    positions = out.numel() // out.shape[0] // m.out_features
    MACS[0] += positions * m.in_features * m.out_features


def count(model, x):
    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    MACS[0] = 0
    with torch.no_grad():
        model.eval()(x)
    for h in hooks:
        h.remove()
    return {"params": sum(p.numel() for p in model.parameters() if p.requires_grad), "macs": MACS[0]}


class Bottleneck(nn.Module):
    def __init__(self, inp, width, stride):
        super().__init__()
        out = width * 4
        self.conv1, self.bn1 = nn.Conv2d(inp, width, 1, bias=False), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
        self.conv3, self.bn3 = nn.Conv2d(width, out, 1, bias=False), nn.BatchNorm2d(out)
        self.down = nn.Sequential(nn.Conv2d(inp, out, 1, stride, bias=False), nn.BatchNorm2d(out)) if stride != 1 or inp != out else None

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return torch.relu(y + (self.down(x) if self.down is not None else x))


def resnet50():
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    inp = 64
    for i, (n, w) in enumerate(zip([3, 4, 6, 3], [64, 128, 256, 512])):
        for b in range(n):
            layers.append(Bottleneck(inp, w, 2 if b == 0 and i > 0 else 1))
            inp = w * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers)


def make_divisible(v, d=8):
    new_v = max(d, int(v + d / 2) // d * d)
    return new_v + d if new_v < 0.9 * v else new_v


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, t):
        super().__init__()
        hidden = int(round(inp * t))
        self.res = stride == 1 and inp == oup
        layers = []
        if t != 1:
            layers += [nn.Conv2d(inp, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
        layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
                   nn.Conv2d(hidden, oup, 1, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)


def mobilenet_v2():
    settings = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]
    inp = make_divisible(32)
    layers = [nn.Conv2d(3, inp, 3, 2, 1, bias=False), nn.BatchNorm2d(inp), nn.ReLU6()]
    for t, c, n, s in settings:
        for i in range(n):
            layers.append(InvertedResidual(inp, make_divisible(c), s if i == 0 else 1, t))
            inp = make_divisible(c)
    layers += [nn.Conv2d(inp, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6(),
               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(1280, 1000)]
    return nn.Sequential(*layers)


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.q, self.k, self.v, self.o, self.h = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d), heads

    def forward(self, x):
        b, t, d = x.shape
        split = lambda y: y.view(b, t, self.h, d // self.h).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        MACS[0] += 2 * t * t * d  # Q.K^T and attention.V, summed over heads
        a = torch.softmax(q @ k.transpose(-1, -2) / (d // self.h) ** 0.5, -1) @ v
        return self.o(a.transpose(1, 2).reshape(b, t, d))


class Layer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.attn, self.ln1 = Attention(d, heads), nn.LayerNorm(d, eps=1e-12)
        self.ffn1, self.ffn2, self.ln2 = nn.Linear(d, ffn), nn.Linear(ffn, d), nn.LayerNorm(d, eps=1e-12)

    def forward(self, x):
        x = self.ln1(x + self.attn(x))
        return self.ln2(x + self.ffn2(torch.nn.functional.gelu(self.ffn1(x))))


class Bert(nn.Module):
    def __init__(self, layers, token_types, pooler, vocab=30522, d=768, heads=12, ffn=3072, positions=512):
        super().__init__()
        self.word, self.pos = nn.Embedding(vocab, d), nn.Embedding(positions, d)
        self.types = nn.Embedding(token_types, d) if token_types else None
        self.ln = nn.LayerNorm(d, eps=1e-12)
        self.layers = nn.ModuleList([Layer(d, heads, ffn) for _ in range(layers)])
        self.pooler = nn.Linear(d, d) if pooler else None

    def forward(self, ids):
        t = ids.shape[1]
        x = self.word(ids) + self.pos(torch.arange(t))[None]
        if self.types is not None:
            x = x + self.types(torch.zeros_like(ids))
        x = self.ln(x)
        for layer in self.layers:
            x = layer(x)
        return torch.tanh(self.pooler(x[:, 0])) if self.pooler is not None else x


if __name__ == "__main__":
    torch.manual_seed(0)
    image = torch.zeros(1, 3, 224, 224)
    ids = torch.ones(1, 128, dtype=torch.long)
    print(json.dumps({
        "resnet50": count(resnet50(), image),
        "mobilenetv2": count(mobilenet_v2(), image),
        "bert-base": count(Bert(12, 2, True), ids),
        "distilbert": count(Bert(6, 0, False), ids),
    }))
