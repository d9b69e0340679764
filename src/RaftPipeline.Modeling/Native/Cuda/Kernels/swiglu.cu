// silu(gate) * up in one pass, rounding the silu to bf16 before the product as the two unfused bf16 ops do. gate and
// up are [rows, cols] with row stride in_ld: two tensors (in_ld = cols), or the two halves of one gate_up projection
// output (up = gate + cols, in_ld = 2 * cols). out is contiguous [rows, cols].
extern "C" __global__ void swiglu_forward_bf16(
    const bf16_t* __restrict__ gate, const bf16_t* __restrict__ up, bf16_t* __restrict__ out, long long n, int cols,
    long long in_ld)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    long long j = (i / cols) * in_ld + i % cols;
    float g = bf16_to_float(gate[j]);
    float s = g / (1.0f + expf(-g));
    out[i] = float_to_bf16(round_bf16(s) * bf16_to_float(up[j]));
}

// d/dgate = dout * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))), d/dup = dout * silu(g), in fp32; the gradients are
// written in the inputs' layout (row stride in_ld), so a fused gate_up output gets one fused gradient.
extern "C" __global__ void swiglu_backward_bf16(
    const bf16_t* __restrict__ grad, const bf16_t* __restrict__ gate, const bf16_t* __restrict__ up,
    bf16_t* __restrict__ grad_gate, bf16_t* __restrict__ grad_up, long long n, int cols, long long in_ld)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    long long j = (i / cols) * in_ld + i % cols;
    float g = bf16_to_float(gate[j]);
    float d = bf16_to_float(grad[i]);
    float sig = 1.0f / (1.0f + expf(-g));
    grad_up[j] = float_to_bf16(d * round_bf16(g / (1.0f + expf(-g))));
    grad_gate[j] = float_to_bf16(d * bf16_to_float(up[j]) * sig * (1.0f + g * (1.0f - sig)));
}
