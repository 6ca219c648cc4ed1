"""Writes the ONNX import fixtures with PyTorch (Debian's python3-torch): a small MLP with biases
and a small CNN with BatchNormalization, Dropout and a final LogSoftmax, each as
tests/fixtures/onnx/<name>.onnx with its logits on a few seeded inputs in <name>.json; and the CNN
again as a graph that keeps BatchNormalization and Dropout as nodes (cnn_bn_nodes.onnx).

    /usr/bin/python3 src/reference/onnx_fixture.py [OUT_DIR]

Inputs are pixels scaled to [0, 1], as wgprune feeds them. The expected values are the logits
(the LogSoftmax's input), since wgprune drops a final softmax."""
import json
import os
import sys

import torch
from torch import nn

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/onnx"
torch.manual_seed(0)


class Cnn(nn.Module):
    """conv 4@3×3 → BatchNorm → ReLU → max-pool 2 → flatten → dropout → dense 10."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.5), nn.Linear(4 * 13 * 13, 10))

    def forward(self, x):
        return self.body(x)


def write(name, model, shape, logits_of):
    model.eval()
    x = torch.rand(3, *shape)
    with torch.no_grad():
        logits = logits_of(x)
    path = os.path.join(OUT, f"{name}.onnx")
    torch.onnx.export(model, torch.rand(1, *shape), path, opset_version=13,
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump({"input_shape": list(shape), "x": x.flatten().tolist(),
                   "logits": logits.flatten().tolist()}, f)


mlp = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10))
write("mlp", mlp, (784,), mlp)

cnn = Cnn()
# Statistics away from the defaults, so that folding the normalisation is tested.
with torch.no_grad():
    bn = cnn.body[1]
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 2.0)
    bn.weight.uniform_(0.5, 1.5)
    bn.bias.uniform_(-0.2, 0.2)
cnn_softmax = nn.Sequential(cnn, nn.LogSoftmax(dim=1))
write("cnn_bn", cnn_softmax, (1, 28, 28), cnn)

# PyTorch's export folds an eval-mode BatchNormalization into the convolution itself; the same
# network as an ONNX graph that keeps BatchNormalization and Dropout as nodes (onnx.helper), for
# the importer's own folding. Its expected logits are PyTorch's, of the same module.
import onnx
from onnx import helper, numpy_helper

conv, bn, fc = cnn.body[0], cnn.body[1], cnn.body[6]
init = [numpy_helper.from_array(t.detach().numpy(), name) for name, t in [
    ("conv.w", conv.weight), ("conv.b", conv.bias), ("bn.scale", bn.weight), ("bn.bias", bn.bias),
    ("bn.mean", bn.running_mean), ("bn.var", bn.running_var), ("fc.w", fc.weight), ("fc.b", fc.bias)]]
nodes = [
    helper.make_node("Conv", ["x", "conv.w", "conv.b"], ["c"], kernel_shape=[3, 3], name="conv"),
    helper.make_node("BatchNormalization", ["c", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["n"],
                     epsilon=bn.eps, name="bn"),
    helper.make_node("Relu", ["n"], ["r"], name="relu"),
    helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
    helper.make_node("Flatten", ["p"], ["f"], axis=1, name="flatten"),
    helper.make_node("Dropout", ["f"], ["d"], name="dropout"),
    helper.make_node("Gemm", ["d", "fc.w", "fc.b"], ["logits"], transB=1, name="fc"),
    helper.make_node("LogSoftmax", ["logits"], ["y"], axis=1, name="logsoftmax"),
]
graph = helper.make_graph(
    nodes, "cnn_bn_nodes",
    [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 1, 28, 28])],
    [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["N", 10])], init)
proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
proto.ir_version = 7
onnx.checker.check_model(proto)
onnx.save(proto, os.path.join(OUT, "cnn_bn_nodes.onnx"))  # expected logits: cnn_bn.json
