"""The shapes of `infoplane-bench layers` in PyTorch's CPU build, for the
side-by-side figures in the README.

PyTorch is not a dependency of InfoPlane or of its tests: install it in a
virtual environment outside the repository and run

    /path/to/venv/bin/python scripts/bench_pytorch.py

    /path/to/venv/bin/python scripts/bench_pytorch.py steps run
    /path/to/venv/bin/python scripts/bench_pytorch.py transformer

Sections (all by default):

- layers: forward + backward of the same layer on the same shapes as
  `infoplane-bench layers` (the upstream gradient is the output itself, as
  there);
- steps: the training steps of `infoplane-bench training`, forward + backward
  + optimizer (Adam, and plain SGD beside it), 12-10-7-5-4-3-2 at batch 256
  and 784-1024-20-20-20-10 at batch 128;
- run: the 12-bit network's instrumented loop as `infoplane train --task
  tishby --epochs 8000 --record log` runs it (Adam, batch 256, loss and
  accuracy on both splits every epoch, every layer's activations of all 4096
  inputs saved as .npy at the 274 recorded epochs with the gradient
  statistics of their epochs), timed per epoch and per recorded epoch and
  added up for the 8000-epoch schedule;
- transformer (not in the default set): the training steps of
  `infoplane-bench translation`, the autoregressive teacher and the NAT
  (pre-LN, 2 layers, d 64, 4 heads, feed-forward 256, dropout 0.1 on
  sublayers, embeddings and attention weights, label smoothing 0.1,
  gradient clipping at norm 1, Adam), batch 64 of sources and targets of
  10 tokens, vocabularies of 64 and 72.

Timings are the minimum over several batches of at least 1 ms, with 1 and
then 2 threads (the run: 1 thread).
"""

import math
import os
import sys
import tempfile
import time

import numpy as np

import torch
import torch.nn.functional as F


def microseconds(body, batches=5):
    reps = 1
    while True:
        start = time.perf_counter()
        for _ in range(reps):
            body()
        if time.perf_counter() - start >= 1e-3:
            break
        reps *= 2
    best = math.inf
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(reps):
            body()
        best = min(best, (time.perf_counter() - start) / reps)
    return best * 1e6


def conv(channels, size):
    x = torch.randn(32, channels, size, size, requires_grad=True)
    w = (0.1 * torch.randn(channels, channels, 3, 3)).requires_grad_()

    def step():
        y = F.conv2d(x, w, padding=1)
        y.backward(y.detach())
    return step


def attention(b=64, length=16, d=64, heads=2):
    x = torch.randn(b, length, d, requires_grad=True)
    layers = [torch.nn.Linear(d, d) for _ in range(4)]
    mask = torch.triu(torch.full((length, length), -1e9), diagonal=1)
    dh = d // heads

    def split(t):
        return t.view(b, length, heads, dh).transpose(1, 2)

    def step():
        q, k, v = (split(layer(x)) for layer in layers[:3])
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + mask, dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(b, length, d)
        y = layers[3](context)
        y.backward(y.detach())
    return step


def lstm(b=256, inputs=64, hidden=64):
    cell = torch.nn.LSTMCell(inputs, hidden)
    x = torch.randn(b, inputs, requires_grad=True)
    h0, c0 = torch.randn(b, hidden, requires_grad=True), torch.randn(b, hidden, requires_grad=True)

    def step():
        h, c = cell(x, (h0, c0))
        out = h + c
        out.backward(out.detach())
    return step


def mlp(widths, activation):
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(activation())
    return torch.nn.Sequential(*layers)


def training_step(widths, batch, optimizer):
    torch.manual_seed(1)
    model = mlp(widths, torch.nn.Tanh)
    x = torch.rand(batch, widths[0])
    y = torch.randint(0, widths[-1], (batch,))
    opt = (torch.optim.Adam(model.parameters(), lr=4e-4) if optimizer == "adam"
           else torch.optim.SGD(model.parameters(), lr=1e-3))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def log_schedule(epochs, points=400):
    """Shwartz-Ziv & Tishby's epochs: distinct floor(2^linspace(0, log2 E, N)) - 1."""
    values = np.unique(np.floor(2 ** np.linspace(0, np.log2(epochs), points)).astype(int) - 1)
    return [int(v) for v in values if 0 <= v <= epochs]


def instrumented_run(epochs=8000, measured_epochs=300, seed=1):
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    inputs = torch.tensor(((np.arange(4096)[:, None] >> np.arange(12)) & 1).astype(np.float32))
    labels = torch.tensor(rng.integers(0, 2, 4096))
    order = rng.permutation(4096)
    train, test = torch.tensor(order[:3277]), torch.tensor(order[3277:])
    model = mlp([12, 10, 7, 5, 4, 3, 2], torch.nn.Tanh)
    opt = torch.optim.Adam(model.parameters(), lr=4e-4)
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    out = tempfile.mkdtemp(prefix="torch-run-")

    def epoch(record):
        sums = [torch.zeros_like(w) for w in weights] if record else None
        squares = [torch.zeros_like(w) for w in weights] if record else None
        permutation = train[torch.randperm(len(train))]
        for start in range(0, len(permutation), 256):
            rows = permutation[start:start + 256]
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(inputs[rows]), labels[rows]).backward()
            if record:
                for w, s, q in zip(weights, sums, squares):
                    s += w.grad
                    q += w.grad * w.grad
            opt.step()
        with torch.no_grad():
            for split in (train, test):
                logits = model(inputs[split])
                F.cross_entropy(logits, labels[split]).item()
                (logits.argmax(1) == labels[split]).float().mean().item()

    def save(e):
        with torch.no_grad():
            h = inputs
            layer = 0
            for m in model:
                h = m(h)
                if not isinstance(m, torch.nn.Linear) or m is model[-1]:
                    layer += 1
                    values = torch.softmax(h, 1) if m is model[-1] else h
                    np.save(os.path.join(out, f"epoch-{e}-layer-{layer}.npy"), values.numpy())

    def seconds(body, count):
        start = time.perf_counter()
        for _ in range(count):
            body()
        return (time.perf_counter() - start) / count

    plain = seconds(lambda: epoch(False), measured_epochs)
    recorded = seconds(lambda: (epoch(True), save(0)), measured_epochs // 3)
    schedule = log_schedule(epochs)
    total = (epochs - len(schedule)) * plain + len(schedule) * recorded
    print(f"  12-bit tanh, 1 thread: {plain * 1e3:.3f} ms an epoch, {recorded * 1e3:.3f} ms a recorded epoch; "
          f"{epochs} epochs with {len(schedule)} recorded: {total:.1f} s")


class PreLNEncoderLayer(torch.nn.Module):
    def __init__(self, d=64, heads=4, ff=256, p=0.1):
        super().__init__()
        self.n1, self.n2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.attention = torch.nn.MultiheadAttention(d, heads, dropout=p, batch_first=True)
        self.ff = torch.nn.Sequential(torch.nn.Linear(d, ff), torch.nn.ReLU(), torch.nn.Linear(ff, d))
        self.drop = torch.nn.Dropout(p)

    def forward(self, x):
        h = self.n1(x)
        x = x + self.drop(self.attention(h, h, h, need_weights=False)[0])
        return x + self.drop(self.ff(self.n2(x)))


class PreLNDecoderLayer(torch.nn.Module):
    """The teacher's layer (causal self-attention, cross-attention, feed-forward) or, with
    `positional`, the NAT's (self-attention masked from each query's own position,
    positional attention, cross-attention, feed-forward)."""

    def __init__(self, d=64, heads=4, ff=256, p=0.1, positional=False):
        super().__init__()
        count = 4 if positional else 3
        self.norms = torch.nn.ModuleList(torch.nn.LayerNorm(d) for _ in range(count))
        self.attentions = torch.nn.ModuleList(torch.nn.MultiheadAttention(d, heads, dropout=p, batch_first=True)
                                              for _ in range(count - 1))
        self.ff = torch.nn.Sequential(torch.nn.Linear(d, ff), torch.nn.ReLU(), torch.nn.Linear(ff, d))
        self.drop = torch.nn.Dropout(p)
        self.positional = positional

    def forward(self, x, memory, mask, positions=None):
        h = self.norms[0](x)
        x = x + self.drop(self.attentions[0](h, h, h, attn_mask=mask, need_weights=False)[0])
        k = 1
        if self.positional:
            x = x + self.drop(self.attentions[1](positions, positions, self.norms[1](x), need_weights=False)[0])
            k = 2
        x = x + self.drop(self.attentions[k](self.norms[k](x), memory, memory, need_weights=False)[0])
        return x + self.drop(self.ff(self.norms[k + 1](x)))


def sinusoids(length, d=64):
    position = torch.arange(length, dtype=torch.float32)[:, None]
    rate = torch.exp(-math.log(10000.0) * torch.arange(0, d, 2, dtype=torch.float32) / d)
    table = torch.zeros(length, d)
    table[:, 0::2], table[:, 1::2] = torch.sin(position * rate), torch.cos(position * rate)
    return table


class Translator(torch.nn.Module):
    def __init__(self, nat, sources=64, targets=72, d=64, layers=2, p=0.1, fertilities=50):
        super().__init__()
        self.nat, self.d = nat, d
        self.source_embedding = torch.nn.Embedding(sources, d)
        self.encoder = torch.nn.ModuleList(PreLNEncoderLayer() for _ in range(layers))
        self.encoder_norm = torch.nn.LayerNorm(d)
        if nat:
            self.fertility = torch.nn.Linear(d, fertilities)
        else:
            self.target_embedding = torch.nn.Embedding(targets, d)
        self.decoder = torch.nn.ModuleList(PreLNDecoderLayer(positional=nat) for _ in range(layers))
        self.decoder_norm = torch.nn.LayerNorm(d)
        self.output = torch.nn.Linear(d, targets)
        self.drop = torch.nn.Dropout(p)
        self.register_buffer("positions", sinusoids(33, d))

    def forward(self, source, target_input):
        embedded = math.sqrt(self.d) * self.source_embedding(source)
        x = self.drop(embedded + self.positions[: source.shape[1]])
        for layer in self.encoder:
            x = layer(x)
        memory = self.encoder_norm(x)
        length = target_input.shape[1]
        positions = self.positions[:length].expand(source.shape[0], length, self.d)
        if self.nat:
            # Fertility 1 everywhere: the decoder's inputs are the source embeddings in order.
            y = self.drop(embedded[:, :length] + positions)
            mask = torch.eye(length, dtype=torch.bool)
        else:
            y = self.drop(math.sqrt(self.d) * self.target_embedding(target_input) + positions)
            mask = torch.ones(length, length, dtype=torch.bool).triu(1)
        for layer in self.decoder:
            y = layer(y, memory, mask, positions if self.nat else None)
        logits = self.output(self.decoder_norm(y))
        return logits, (self.fertility(memory) if self.nat else None)


def transformer_step(nat, batch=64, source_length=10, target_length=10):
    torch.manual_seed(0)
    model = Translator(nat)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    source = torch.randint(4, 64, (batch, source_length))
    target = torch.randint(4, 72, (batch, target_length))
    # The teacher reads <s> y and predicts y </s>; the NAT predicts y from the copied source.
    target_input = target if nat else torch.cat([torch.ones(batch, 1, dtype=torch.long), target], 1)
    labels = target if nat else torch.cat([target, torch.full((batch, 1), 2, dtype=torch.long)], 1)
    fertility_labels = torch.ones(batch, source_length, dtype=torch.long)

    def step():
        optimizer.zero_grad(set_to_none=True)
        logits, fertility = model(source, target_input)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), label_smoothing=0.1)
        if nat:
            loss = loss + F.cross_entropy(fertility.reshape(-1, fertility.shape[-1]), fertility_labels.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    return step


def main():
    sections = sys.argv[1:] or ["layers", "steps", "run"]
    print(f"PyTorch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        if "layers" in sections:
            print(f"\nLayers, forward + backward, torch.set_num_threads({threads})")
            for channels in (16, 32):
                for size in (4, 8, 16, 32):
                    print(f"  conv 3x3, 32x{channels}x{size}x{size}".ljust(46) + f"{microseconds(conv(channels, size)):10.1f} µs")
            print("  attention, 64x16x64, 2 heads (causal)".ljust(46) + f"{microseconds(attention()):10.1f} µs")
            print("  LSTM step, batch 256, 64 -> 64".ljust(46) + f"{microseconds(lstm()):10.1f} µs")
        if "steps" in sections:
            print(f"\nTraining steps, forward + backward + optimizer, torch.set_num_threads({threads})")
            for widths, batch in (([12, 10, 7, 5, 4, 3, 2], 256), ([784, 1024, 20, 20, 20, 10], 128)):
                for optimizer in ("adam", "sgd"):
                    name = f"  {'-'.join(map(str, widths))} tanh batch {batch}, {optimizer}"
                    print(name.ljust(46) + f"{microseconds(training_step(widths, batch, optimizer)):10.1f} µs")
        if "transformer" in sections:
            print(f"\nTranslation training steps, batch 64, 10 + 10 tokens, torch.set_num_threads({threads})")
            for nat in (False, True):
                name = "  NAT" if nat else "  teacher"
                print(name.ljust(46) + f"{microseconds(transformer_step(nat)) / 1e3:10.2f} ms")
    if "run" in sections:
        print("\nThe instrumented 12-bit run")
        instrumented_run()


if __name__ == "__main__":
    main()
