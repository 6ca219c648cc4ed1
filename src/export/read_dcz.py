"""Reads wgprune's Deep Compression file (model.dcz) with numpy alone.

    python3 read_dcz.py model.dcz [out.npz]

prints each parameter's name, shape and how it was stored, and with OUT writes the dense
tensors (pruned weights 0, shared and quantised weights at the values they stand for) to an
.npz in the layouts of wgprune's model.safetensors (a dense weight [in, out], a convolution
[out, in, kh, kw]). As a module, `read_dcz(path)` returns the spec and the tensors.

Format (src/quant/dc_file.ts): b"WGDC", u32 version 2, u32 header length, the JSON header
(raw DEFLATE), one section per parameter, then u32 CRC-32 (zlib.crc32) of every byte before
it, verified before anything is decoded. A weight's section holds its relative-index stream (Deep
Compression, Han et al. 2016: code c < 2^b - 1 = that many zeros before the next non-zero;
2^b - 1 = skip that many, no weight), then its value stream (cluster or int8 symbols), both
at fixed width or Huffman-coded with canonical codes (bits least significant first within a
byte, codes most significant bit first), then its f32 codebook, f32 scales, f16 or f32 values.
Positions run over the weight in PyTorch's layout ([out, in] for a dense weight).
"""

import json
import struct
import sys
import zlib

import numpy as np


class BitReader:
    """Reads a stream written least significant bit first within each byte."""

    def __init__(self, data):
        self.bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
        self.at = 0

    def fixed(self, count, width):
        """`count` values of `width` bits each, least significant bit first."""
        chunk = self.bits[self.at:self.at + count * width].reshape(count, width).astype(np.int64)
        self.at += count * width
        return chunk @ (1 << np.arange(width, dtype=np.int64))

    def huffman(self, count, lengths_text):
        """`count` symbols of the canonical code whose lengths are one base-32 digit each."""
        lengths = [int(c, 32) for c in lengths_text]
        max_len = max(lengths)
        per_length = [0] * (max_len + 1)
        for n in lengths:
            if n:
                per_length[n] += 1
        ordered = sorted((n, s) for s, n in enumerate(lengths) if n)
        symbols = [s for _, s in ordered]
        bits = self.bits
        at = self.at
        out = np.empty(count, dtype=np.int64)
        for i in range(count):
            code = first = index = 0
            for length in range(1, max_len + 1):
                code |= int(bits[at])
                at += 1
                n = per_length[length]
                if code - first < n:
                    out[i] = symbols[index + code - first]
                    break
                index += n
                first = (first + n) << 1
                code <<= 1
            else:
                raise ValueError("invalid Huffman code")
        self.at = at
        return out


def positions_of(codes, width):
    """Absolute positions from relative-index codes of `width` bits."""
    filler = (1 << width) - 1
    steps = np.where(codes == filler, filler, codes + 1)
    ends = np.cumsum(steps)
    return (ends - 1)[codes != filler]


def read_dcz(path):
    """Returns (spec, {name: ndarray}) of a model.dcz."""
    raw = open(path, "rb").read()
    if raw[:4] != b"WGDC":
        raise ValueError(f"{path}: not a Deep Compression file")
    version, header_len = struct.unpack("<II", raw[4:12])
    if version != 2:
        raise ValueError(f"{path}: version {version}, expected 2")
    body = raw[:-4]
    (stored,) = struct.unpack("<I", raw[-4:])
    if zlib.crc32(body) != stored:
        raise ValueError(f"{path}: its CRC-32 does not match: the file is damaged")
    header = json.loads(zlib.decompress(body[12:12 + header_len], -15))
    payload = body[12 + header_len:]
    tensors = {}
    for e in header["tensors"]:
        section = payload[e["offset"]:e["offset"] + e["bytes"]]
        shape = e["shape"]
        count = int(np.prod(shape))
        if e["kind"] == "raw":
            tensors[e["name"]] = np.frombuffer(section, "<f4", count).reshape(shape).copy()
            continue
        # Storage order: a dense [in, out] weight as [out, in].
        storage = [shape[1], shape[0]] if len(shape) == 2 else shape
        reader = BitReader(section)

        def stream(n, width, lengths):
            return reader.fixed(n, width) if lengths is None else reader.huffman(n, lengths)

        nnz = e["nnz"]
        codes = stream(e["codes"], e["indexBits"], e.get("indexLengths"))
        pos = positions_of(codes, e["indexBits"])
        values = np.zeros(count, dtype=np.float32)
        kind = e["kind"]
        if kind == "shared":
            clusters = stream(nnz, e["bits"], e.get("valueLengths"))
            codebook = np.frombuffer(section[-4 * (1 << e["bits"]):], "<f4")
            values[pos] = codebook[clusters]
        elif kind == "int8":
            levels = stream(nnz, 8, e.get("valueLengths")) - 128
            scale = np.frombuffer(section[-4 * storage[0]:], "<f4")
            per_channel = count // storage[0]
            values[pos] = (levels * scale[pos // per_channel].astype(np.float64)).astype(np.float32)
        elif kind == "f16":
            values[pos] = np.frombuffer(section[-2 * nnz:], "<f2").astype(np.float32)
        else:
            values[pos] = np.frombuffer(section[-4 * nnz:], "<f4")
        w = values.reshape(storage)
        tensors[e["name"]] = (w.T if len(shape) == 2 else w).copy()
    return header["spec"], tensors


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python3 read_dcz.py model.dcz [out.npz]")
    try:
        spec, params = read_dcz(sys.argv[1])
    except (OSError, ValueError) as err:
        print(f"read_dcz.py: {err}", file=sys.stderr)
        sys.exit(2)
    for name, t in params.items():
        print(f"{name} {list(t.shape)} nonzeros {np.count_nonzero(t)}")
    if len(sys.argv) == 3:
        np.savez(sys.argv[2], **params)
