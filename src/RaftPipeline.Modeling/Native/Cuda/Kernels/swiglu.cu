// silu(gate) * up in one pass, rounding the silu to bf16 before the product as the two unfused bf16 ops do.
extern "C" __global__ void swiglu_forward_bf16(
    const bf16_t* __restrict__ gate, const bf16_t* __restrict__ up, bf16_t* __restrict__ out, long long n)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float g = bf16_to_float(gate[i]);
    float s = g / (1.0f + expf(-g));
    out[i] = float_to_bf16(round_bf16(s) * bf16_to_float(up[i]));
}

// d/dgate = dout * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))), d/dup = dout * silu(g), in fp32.
extern "C" __global__ void swiglu_backward_bf16(
    const bf16_t* __restrict__ grad, const bf16_t* __restrict__ gate, const bf16_t* __restrict__ up,
    bf16_t* __restrict__ grad_gate, bf16_t* __restrict__ grad_up, long long n)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float g = bf16_to_float(gate[i]);
    float d = bf16_to_float(grad[i]);
    float sig = 1.0f / (1.0f + expf(-g));
    grad_up[i] = float_to_bf16(d * round_bf16(g / (1.0f + expf(-g))));
    grad_gate[i] = float_to_bf16(d * bf16_to_float(up[i]) * sig * (1.0f + g * (1.0f - sig)));
}
