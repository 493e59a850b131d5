"""The shapes of `infoplane-bench layers` in PyTorch's CPU build, for the
side-by-side figures in the README.

PyTorch is not a dependency of InfoPlane or of its tests: install it in a
virtual environment outside the repository and run

    /path/to/venv/bin/python scripts/bench_pytorch.py

Each line: forward + backward of the same layer on the same shapes as the
Swift benchmark (the upstream gradient is the output itself, as there), the
minimum over several batches of at least 1 ms, with 1 and then 2 threads.
"""

import math
import time

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


def main():
    print(f"PyTorch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        print(f"\nLayers, forward + backward, torch.set_num_threads({threads})")
        for channels in (16, 32):
            for size in (4, 8, 16, 32):
                print(f"  conv 3x3, 32x{channels}x{size}x{size}".ljust(46) + f"{microseconds(conv(channels, size)):10.1f} µs")
        print("  attention, 64x16x64, 2 heads (causal)".ljust(46) + f"{microseconds(attention()):10.1f} µs")
        print("  LSTM step, batch 256, 64 -> 64".ljust(46) + f"{microseconds(lstm()):10.1f} µs")


if __name__ == "__main__":
    main()
