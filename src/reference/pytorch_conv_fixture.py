# Writes tests/fixtures/torch_cnn.safetensors: a small CNN built from torch.nn layers (Conv2d with
# padding and stride, ReLU, MaxPool2d, Flatten, Linear), its parameters under wgprune's names, a
# batch of uint8 pixels and the logits PyTorch computes for them. tests/conv_test.ts loads it
# into the same network spec and compares logits, so the conv layout [out, in, kh, kw] and the
# NCHW flatten order are checked against PyTorch itself, not against our own reference.
#
# Conv2d weights are stored as PyTorch keeps them; Linear weights transposed to wgprune's
# [in, out] (as every wgprune checkpoint stores dense layers).
#
# Usage: /usr/bin/python3 src/reference/pytorch_conv_fixture.py tests/fixtures/torch_cnn.safetensors
import json
import sys

import numpy as np
import torch

torch.manual_seed(7)
model = torch.nn.Sequential(
    torch.nn.Conv2d(2, 3, 3, stride=1, padding=1),
    torch.nn.ReLU(),
    torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(3, 4, 3, stride=2, padding=0),
    torch.nn.ReLU(),
    torch.nn.Flatten(),
    torch.nn.Linear(4 * 2 * 2, 5),
)
rows, channels, side = 3, 2, 11
pixels = torch.randint(0, 256, (rows, channels * side * side), dtype=torch.uint8)
with torch.no_grad():
    x = pixels.float().div(255).reshape(rows, channels, side, side)
    logits = model(x)

tensors = {
    "layers.0.weight": model[0].weight,
    "layers.0.bias": model[0].bias,
    "layers.1.weight": model[3].weight,
    "layers.1.bias": model[3].bias,
    "layers.2.weight": model[6].weight.T,  # Linear's [out, in] → wgprune's [in, out]
    "layers.2.bias": model[6].bias,
    "pixels": pixels,
    "logits": logits,
}
header, chunks, offset = {}, [], 0
for name, t in tensors.items():
    a = np.ascontiguousarray(t.detach().numpy())
    dtype = {np.dtype("float32"): "F32", np.dtype("uint8"): "U8"}[a.dtype]
    data = a.tobytes()
    header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
    chunks.append(data)
    offset += len(data)
header["__metadata__"] = {"torch": torch.__version__, "source": "src/reference/pytorch_conv_fixture.py"}
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(len(text).to_bytes(8, "little") + text + b"".join(chunks))
print(f"wrote {sys.argv[1]}: logits {logits.shape}, torch {torch.__version__}")
