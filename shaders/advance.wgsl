// advance.wgsl: end of a training step, on the GPU so many steps fit in one submit.
//
// Layout: state: [2] u32; state[0] = Adam's step count t, state[1] = batch cursor within the
// epoch (which slice of the shuffled order the next gather reads). Both are incremented.
// One invocation. Params: none.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main() {
  state[0] = state[0] + 1u;
  state[1] = state[1] + 1u;
}
