"""Evaluates wgprune's model_csr.safetensors with numpy and scipy alone.

    python3 src/export/read_csr.py model_csr.safetensors t10k-images-idx3-ubyte(.gz) \
        t10k-labels-idx1-ubyte(.gz)

reads the file's tensors and model spec (no safetensors package needed), runs the network
layer by layer (dense weights [in, out]; each pruned weight as scipy's CSR of its [out, in]
matrix, a convolution's [out, in, kh, kw] as [out, in*kh*kw]) on the IDX test set and prints
`test accuracy NN.NN%`, the figure deno task eval prints for the same file.
"""

import gzip, json, struct, sys
import numpy as np, scipy.sparse as sp

def safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta, data = header.pop("__metadata__"), raw[8 + n:]
    types = {"F32": "<f4", "F16": "<f2", "I32": "<i4", "I8": "i1", "U8": "u1"}
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], types[v["dtype"]])
            .reshape(v["shape"]) for k, v in header.items()}, meta

def idx(path):  # raw or gzipped IDX
    raw = open(path, "rb").read()
    raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    dims = struct.unpack(">" + "I" * raw[3], raw[4:4 + 4 * raw[3]])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * raw[3]).reshape(dims)

def conv2d(x, w, stride, padding):  # x [n, c, h, w], w [out, c, kh, kw]
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=(2, 3))
    return np.einsum("nchwij,ocij->nohw", win[:, :, ::stride, ::stride], w, optimize=True)

def maxpool2d(x, k, stride):
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))
    return win[:, :, ::stride, ::stride].max(axis=(4, 5))

tensors, meta = safetensors(sys.argv[1])  # model_csr.safetensors
spec = json.loads(meta["spec"])
x = idx(sys.argv[2]).reshape(-1, *spec["input"]) / 255.0  # t10k-images-idx3-ubyte(.gz)
labels = idx(sys.argv[3])  # t10k-labels-idx1-ubyte(.gz)
p = 0
for layer in spec["layers"]:
    kind = layer["kind"]
    if kind == "leaky_relu":  # x > 0 ? x : slope·x
        x = np.where(x > 0, x, layer["slope"] * x)
        continue
    if kind in ("relu", "flatten", "maxpool2d"):
        x = (np.maximum(x, 0) if kind == "relu" else x.reshape(len(x), -1) if kind == "flatten"
             else maxpool2d(x, layer["kernel"], layer["stride"]))
        continue
    w = tensors.get(f"layers.{p}.weight")  # dense W [in, out]; conv [out, in, kh, kw]
    if w is None:  # CSR of W [out, in] (a conv's as [out, in·kh·kw])
        w = sp.csr_matrix((tensors[f"layers.{p}.values"], tensors[f"layers.{p}.indices"],
                           tensors[f"layers.{p}.indptr"]), shape=json.loads(meta[f"layers.{p}.shape"]))
        w = w.toarray().reshape(w.shape[0], -1, layer["kernel"], layer["kernel"]) if kind == "conv2d" else w
    if kind == "conv2d":
        x = conv2d(x, w, layer["stride"], layer["padding"])
    else:
        x = (w @ x.T).T if sp.issparse(w) else x @ w
    b = tensors.get(f"layers.{p}.bias")
    if b is not None:
        x = x + (b[:, None, None] if kind == "conv2d" else b)
    p += 1
print(f"test accuracy {100 * np.mean(x.argmax(1) == labels):.2f}%")
