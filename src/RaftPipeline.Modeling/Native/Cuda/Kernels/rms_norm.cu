// RMSNorm over the last dimension, one warp per row, as transformers computes it in bf16: statistics in fp32,
// normalised value rounded to bf16, then multiplied by the bf16 weight. Backward recomputes 1/rms from x (one more
// read of a row it reads anyway), so only x is kept for backward.
extern "C" __global__ void rms_norm_forward_bf16(
    const bf16_t* __restrict__ x, const bf16_t* __restrict__ weight, bf16_t* __restrict__ y,
    int rows, int cols, float eps)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const bf16_t* xr = x + (long long)row * cols;
    float sum = 0.f;
    for (int c = lane; c < cols; c += 32) { float v = bf16_to_float(xr[c]); sum += v * v; }
    float r = rsqrtf(warp_sum(sum) / cols + eps);
    bf16_t* yr = y + (long long)row * cols;
    for (int c = lane; c < cols; c += 32)
        yr[c] = float_to_bf16(bf16_to_float(weight[c]) * round_bf16(bf16_to_float(xr[c]) * r));
}

// dL/dx = r * (g - x_hat * mean(g * x_hat)), with g = dL/dy * weight and x_hat = x * r, all in fp32.
extern "C" __global__ void rms_norm_backward_bf16(
    const bf16_t* __restrict__ grad_y, const bf16_t* __restrict__ x, const bf16_t* __restrict__ weight,
    bf16_t* __restrict__ grad_x, int rows, int cols, float eps)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int lane = threadIdx.x & 31;
    if (row >= rows) return;
    long long base = (long long)row * cols;
    float sum = 0.f;
    for (int c = lane; c < cols; c += 32) { float v = bf16_to_float(x[base + c]); sum += v * v; }
    float r = rsqrtf(warp_sum(sum) / cols + eps);
    float dot = 0.f;
    for (int c = lane; c < cols; c += 32)
        dot += bf16_to_float(grad_y[base + c]) * bf16_to_float(weight[c]) * (bf16_to_float(x[base + c]) * r);
    float mean = warp_sum(dot) / cols;
    for (int c = lane; c < cols; c += 32)
    {
        float g = bf16_to_float(grad_y[base + c]) * bf16_to_float(weight[c]);
        float xh = bf16_to_float(x[base + c]) * r;
        grad_x[base + c] = float_to_bf16(r * (g - xh * mean));
    }
}
