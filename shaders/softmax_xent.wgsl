// softmax_xent.wgsl: softmax + cross-entropy over a batch of logits, with its gradient.
//
// Layouts:
//   logits: [rows, classes] f32, row-major.
//   labels: [rows] u32, each < classes.
//   grad:   [rows, classes] f32 output, ∂(mean loss)/∂logits = (softmax − onehot) / rows.
//   stats:  [2] f32; stats[0] ← mean loss of this batch, stats[1] += summed loss (an
//           accumulator the caller zeroes once per epoch and reads back rarely).
// Numerically stable: the row maximum is subtracted before exp, and the loss is computed as
// logsumexp − logit[label], so logits of ±1e4 give finite values.
// One workgroup of WORKGROUP_SIZE (a power of two) invocations strides over the rows, then reduces the loss in shared memory.
// Params: rows, classes, write_grad (0 or 1: evaluation skips the gradient).

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) li: u32) {
  var total = 0.0;
  for (var r = li; r < params.rows; r += WORKGROUP_SIZE) {
    let base = r * params.classes;
    var top = logits[base];
    for (var c = 1u; c < params.classes; c++) {
      top = max(top, logits[base + c]);
    }
    var sum = 0.0;
    for (var c = 0u; c < params.classes; c++) {
      sum += exp(logits[base + c] - top);
    }
    let label = labels[r];
    total += log(sum) + top - logits[base + label];
    if (params.write_grad != 0u) {
      let scale = 1.0 / f32(params.rows);
      for (var c = 0u; c < params.classes; c++) {
        let p = exp(logits[base + c] - top) / sum;
        grad[base + c] = (p - select(0.0, 1.0, c == label)) * scale;
      }
    }
  }
  partial[li] = total;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width /= 2u) {
    if (li < width) {
      partial[li] += partial[li + width];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    stats[0] = partial[0] / f32(params.rows);
    stats[1] += partial[0];
  }
}
