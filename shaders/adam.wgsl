// adam.wgsl: masked Adam update with optional L1 and L2 terms (Kingma & Ba 2015).
//
// Layouts: w, grad, m, v, mask: [count] f32 (one parameter tensor flattened, e.g. W[in, out]
// row-major). mask holds 1 (trainable) or 0 (pruned). state: [2] u32, state[0] = t, the number
// of updates already taken (this update is step t + 1; the `advance` kernel increments it).
//
//   g  = grad + l2·w + l1·sign(w)
//   m  = β1·m + (1 − β1)·g
//   v  = β2·v + (1 − β2)·g²
//   w  = w − lr·(m / (1 − β1^(t+1))) / (sqrt(v / (1 − β2^(t+1))) + ε)
// then w, m and v are multiplied by the mask: a pruned weight stays exactly 0.0 forever and its
// moments stay 0.
// Params: count, row_stride, lr, beta1, beta2, eps, l1, l2.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * params.row_stride + wg.x) * WORKGROUP_SIZE + li;
  if (i >= params.count) {
    return;
  }
  if (mask[i] == 0.0) {
    w[i] = 0.0;
    m[i] = 0.0;
    v[i] = 0.0;
    return;
  }
  let t = f32(state[0] + 1u);
  let wi = w[i];
  let g = grad[i] + params.l2 * wi + params.l1 * sign(wi);
  let mi = params.beta1 * m[i] + (1.0 - params.beta1) * g;
  let vi = params.beta2 * v[i] + (1.0 - params.beta2) * g * g;
  let m_hat = mi / (1.0 - pow(params.beta1, t));
  let v_hat = vi / (1.0 - pow(params.beta2, t));
  m[i] = mi;
  v[i] = vi;
  w[i] = wi - params.lr * m_hat / (sqrt(v_hat) + params.eps);
}
