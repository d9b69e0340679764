// Rotary position embedding (rotate_half convention) on x laid out [B, T, H, D] (the projection's own layout, before
// the transpose to [B, H, T, D]); cos and sin are [B, T, D]. out = x*cos + rotate_half(x)*sin with each product and
// the sum rounded to bf16, as the unfused bf16 ops do. One thread per element.
extern "C" __global__ void rope_forward_bf16(const bf16_t* __restrict__ x, const bf16_t* __restrict__ cos_,
    const bf16_t* __restrict__ sin_, bf16_t* __restrict__ out, long long n, int heads, int dim)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    int d = (int)(i % dim);
    long long row = i / dim;                  // (b, t, h)
    long long bt = row / heads;               // (b, t)
    int half = dim >> 1;
    float xv = bf16_to_float(x[i]);
    float rot = d < half ? -bf16_to_float(x[i + half]) : bf16_to_float(x[i - half]);
    float c = bf16_to_float(cos_[bt * dim + d]);
    float s = bf16_to_float(sin_[bt * dim + d]);
    out[i] = float_to_bf16(round_bf16(xv * c) + round_bf16(rot * s));
}

// dL/dx[j] = g[j]*cos[j] + (j < D/2 ? g[j+D/2]*sin[j+D/2] : -g[j-D/2]*sin[j-D/2]), in fp32.
extern "C" __global__ void rope_backward_bf16(const bf16_t* __restrict__ grad, const bf16_t* __restrict__ cos_,
    const bf16_t* __restrict__ sin_, bf16_t* __restrict__ grad_x, long long n, int heads, int dim)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    int d = (int)(i % dim);
    long long bt = (i / dim) / heads;
    int half = dim >> 1;
    float g = bf16_to_float(grad[i]);
    float c = bf16_to_float(cos_[bt * dim + d]);
    float other = d < half
        ? bf16_to_float(grad[i + half]) * bf16_to_float(sin_[bt * dim + d + half])
        : -bf16_to_float(grad[i - half]) * bf16_to_float(sin_[bt * dim + d - half]);
    grad_x[i] = float_to_bf16(g * c + other);
}
