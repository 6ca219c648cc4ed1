#!/usr/bin/env python3
"""PyTorch side of `deno task bench --vs-torch`: the same work as wgprune's bench, on this machine.

Prints one JSON object on stdout:
  torch, device, threads,
  matmul_ms / matmul_gflops: the 10000x784 . 784x1000 product (median of 5),
  forward_ms: forward pass of the default MLP (784-1000-1000-500-200-10, no bias) over 10000
              samples (median of 5),
  epoch_s: one training epoch of --model (wgprune's --model names; default the MLP), Adam
           lr 1e-3, batch 128, --samples random samples (after a 20-step warm-up).
Usage: python3 pytorch_bench.py [--samples 50000] [--device cpu|cuda] [--threads N] [--model NAME]
"""
import argparse, json, time
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--samples", type=int, default=50000)
parser.add_argument("--device", default="cpu")
parser.add_argument("--threads", type=int, default=0, help="0: torch's default")
parser.add_argument("--no-epoch", action="store_true")
parser.add_argument("--model", default="mlp")
args = parser.parse_args()
if args.threads > 0:
    torch.set_num_threads(args.threads)
dev = torch.device(args.device)
torch.manual_seed(0)


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


def median_ms(fn, reps=5):
    fn()
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)[len(times) // 2]


a = torch.rand(10000, 784, device=dev)
b = torch.rand(784, 1000, device=dev)
matmul_ms = median_ms(lambda: a @ b)

sizes = [784, 1000, 1000, 500, 200, 10]
layers = []
for i in range(5):
    layers.append(torch.nn.Linear(sizes[i], sizes[i + 1], bias=False))
    if i < 4:
        layers.append(torch.nn.ReLU())
model = torch.nn.Sequential(*layers).to(dev)
with torch.no_grad():
    forward_ms = median_ms(lambda: model(a))



def network(name):
    """wgprune's --model networks (src/model/zoo.ts) as torch.nn modules."""
    nn = torch.nn
    if name == "mlp":
        return model
    if name == "lenet-300-100":
        return nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(),
                             nn.Linear(100, 10))
    if name == "lenet5":
        return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 120, 4), nn.ReLU(),
                             nn.Flatten(), nn.Linear(120, 1024), nn.ReLU(), nn.Linear(1024, 10))
    if name == "lenet5-caffe":
        return nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 500), nn.ReLU(),
                             nn.Linear(500, 10))
    if name == "cnn-small":
        return nn.Sequential(nn.Conv2d(1, 12, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(12 * 13 * 13, 10))
    raise SystemExit(f"unknown --model {name}")


epoch_s = None
if not args.no_epoch:
    n = args.samples
    model = network(args.model).to(dev)
    image = args.model not in ("mlp", "lenet-300-100")
    x = torch.rand(n, 1, 28, 28, device=dev) if image else torch.rand(n, 784, device=dev)
    y = torch.randint(0, 10, (n,), device=dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def steps(count, perm):
        for s in range(count):
            idx = perm[s * 128:(s + 1) * 128]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()

    steps(20, torch.randperm(n, device=dev))
    sync()
    t0 = time.perf_counter()
    steps(n // 128, torch.randperm(n, device=dev))
    sync()
    epoch_s = time.perf_counter() - t0

print(json.dumps({
    "torch": torch.__version__,
    "device": str(dev) if dev.type == "cpu" else torch.cuda.get_device_name(0),
    "threads": torch.get_num_threads(),
    "matmul_ms": matmul_ms,
    "matmul_gflops": 2 * 10000 * 784 * 1000 / (matmul_ms * 1e6),
    "forward_ms": forward_ms,
    "epoch_s": epoch_s,
}))
