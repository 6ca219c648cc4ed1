#!/usr/bin/env python3
# PyTorch reference timing: one epoch of the default MLP (784-1000-1000-500-200-10, no bias),
# Adam lr 1e-3, batch 128, 50 000 samples, on this machine's CPU.
import time, torch, numpy as np
torch.manual_seed(0)
torch.set_num_threads(2)
n = 50000
x = torch.rand(n, 784)
y = torch.randint(0, 10, (n,))
sizes = [784, 1000, 1000, 500, 200, 10]
layers = []
for i in range(5):
    layers.append(torch.nn.Linear(sizes[i], sizes[i + 1], bias=False))
    if i < 4:
        layers.append(torch.nn.ReLU())
model = torch.nn.Sequential(*layers)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = torch.nn.CrossEntropyLoss()
def epoch():
    perm = torch.randperm(n)
    t0 = time.perf_counter()
    for s in range(n // 128):
        idx = perm[s * 128:(s + 1) * 128]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    return time.perf_counter() - t0
times = [epoch() for _ in range(2)]
print(f"pytorch {torch.__version__} epoch (50000 samples, batch 128, 2 threads): " + ", ".join(f"{t:.1f} s" for t in times))
with torch.no_grad():
    xt = torch.rand(10000, 784)
    t0 = time.perf_counter(); model(xt); t1 = time.perf_counter()
print(f"pytorch forward over 10000 samples: {(t1 - t0) * 1000:.0f} ms")
