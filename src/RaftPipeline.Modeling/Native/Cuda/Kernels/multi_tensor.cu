// Multi-tensor kernels: one launch over many tensors (a LoRA model has 504 trainable tensors; one launch each would
// make the optimizer step launch-bound). The table is int64: `tensors * slots` device pointers, then per CUDA block
// (tensor index, first element, element count).
#define CHUNK_TENSOR(table, tensors, slots) ((int)(table)[(long long)(tensors) * (slots) + 3LL * blockIdx.x])
#define CHUNK_START(table, tensors, slots) ((table)[(long long)(tensors) * (slots) + 3LL * blockIdx.x + 1])
#define CHUNK_COUNT(table, tensors, slots) ((int)(table)[(long long)(tensors) * (slots) + 3LL * blockIdx.x + 2])

__device__ __forceinline__ float block_sum_256(float v, float* shared8)
{
    v = warp_sum(v);
    if ((threadIdx.x & 31) == 0) shared8[threadIdx.x >> 5] = v;
    __syncthreads();
    float total = 0.f;
    for (int w = 0; w < 8; w++) total += shared8[w];
    __syncthreads();
    return total;
}

__device__ __forceinline__ float block_max_256(float v, float* shared8)
{
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    if ((threadIdx.x & 31) == 0) shared8[threadIdx.x >> 5] = v;
    __syncthreads();
    float m = 0.f;
    for (int w = 0; w < 8; w++) m = fmaxf(m, shared8[w]);
    __syncthreads();
    return m;
}

// Sum of squares of each chunk of fp32 tensors (slot 0), one partial per CUDA block; the caller sums the partials
// with one deterministic libtorch reduction.
extern "C" __global__ void sum_squares_multi_fp32(const long long* __restrict__ table, int tensors, float* __restrict__ partials)
{
    __shared__ float shared8[8];
    int t = CHUNK_TENSOR(table, tensors, 1);
    long long start = CHUNK_START(table, tensors, 1);
    int count = CHUNK_COUNT(table, tensors, 1);
    const float* x = (const float*)table[t];
    float s = 0.f;
    for (int k = threadIdx.x; k < count; k += blockDim.x) { float v = x[start + k]; s += v * v; }
    s = block_sum_256(s, shared8);
    if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

// x *= *scale for every chunk of fp32 tensors (slot 0); scale is a device scalar, so no host round trip.
extern "C" __global__ void scale_multi_fp32(const long long* __restrict__ table, int tensors, const float* __restrict__ scale)
{
    int t = CHUNK_TENSOR(table, tensors, 1);
    long long start = CHUNK_START(table, tensors, 1);
    int count = CHUNK_COUNT(table, tensors, 1);
    float* x = (float*)table[t];
    float f = *scale;
    for (int k = threadIdx.x; k < count; k += blockDim.x) x[start + k] = x[start + k] * f;
}

// AdamW (torch's single-tensor order of operations) over fp32 params/grads/moments; slots: param, grad, exp_avg,
// exp_avg_sq. decay = 1 - lr * weight_decay (1 when there is none); step_size = lr / (1 - beta1^t).
extern "C" __global__ void adamw_multi_fp32(const long long* __restrict__ table, int tensors, float decay,
    float one_minus_beta1, float beta2, float one_minus_beta2, float bc2_sqrt, float eps, float step_size)
{
    int t = CHUNK_TENSOR(table, tensors, 4);
    long long start = CHUNK_START(table, tensors, 4);
    int count = CHUNK_COUNT(table, tensors, 4);
    float* p = (float*)table[4LL * t];
    const float* g = (const float*)table[4LL * t + 1];
    float* m = (float*)table[4LL * t + 2];
    float* v = (float*)table[4LL * t + 3];
    for (int k = threadIdx.x; k < count; k += blockDim.x)
    {
        long long i = start + k;
        float gi = g[i];
        float pi = decay != 1.f ? p[i] * decay : p[i];
        float mi = m[i] + one_minus_beta1 * (gi - m[i]);       // lerp_(g, 1 - beta1), weight < 0.5
        float vi = v[i] * beta2 + one_minus_beta2 * (gi * gi); // mul_(beta2).addcmul_(g, g, 1 - beta2)
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        p[i] = pi + (-step_size) * (mi / denom);
        m[i] = mi;
        v[i] = vi;
    }
}

__device__ __forceinline__ unsigned char nearest_code(float x, const float* bounds)
{
    // torch.bucketize(x, bounds, right=False): the first index j with bounds[j] >= x (255 sorted midpoints).
    int lo = 0, hi = 255;
    while (lo < hi) { int mid = (lo + hi) >> 1; if (bounds[mid] < x) lo = mid + 1; else hi = mid; }
    return (unsigned char)lo;
}

// 8-bit AdamW, bitsandbytes' blockwise form: one CUDA block of 256 threads per state block of 256 values. Slots:
// param (fp32), grad (fp32), state1 and state2 (uint8 codes), absmax1 and absmax2 (fp32 per block). Moments are
// dequantized against the signed / unsigned dynamic maps, updated, the parameter stepped, and the moments
// re-quantized with the block's new absmax (nearest code by midpoints), as AdamW8bit's unfused path does.
extern "C" __global__ void adamw8bit_blockwise(const long long* __restrict__ table, int tensors,
    const float* __restrict__ signed_map, const float* __restrict__ unsigned_map,
    const float* __restrict__ signed_bounds, const float* __restrict__ unsigned_bounds,
    float decay, float beta1, float one_minus_beta1, float beta2, float one_minus_beta2, float bc2_sqrt, float eps,
    float step_size)
{
    __shared__ float smap[256], umap[256], sb[256], ub[256], shared8[8];
    smap[threadIdx.x] = signed_map[threadIdx.x];
    umap[threadIdx.x] = unsigned_map[threadIdx.x];
    if (threadIdx.x < 255) { sb[threadIdx.x] = signed_bounds[threadIdx.x]; ub[threadIdx.x] = unsigned_bounds[threadIdx.x]; }
    __syncthreads();
    int t = CHUNK_TENSOR(table, tensors, 6);
    long long start = CHUNK_START(table, tensors, 6);
    int count = CHUNK_COUNT(table, tensors, 6);
    long long block = start / 256;
    float* p = (float*)table[6LL * t];
    const float* g = (const float*)table[6LL * t + 1];
    unsigned char* s1 = (unsigned char*)table[6LL * t + 2];
    unsigned char* s2 = (unsigned char*)table[6LL * t + 3];
    float* a1 = (float*)table[6LL * t + 4];
    float* a2 = (float*)table[6LL * t + 5];
    bool valid = threadIdx.x < count;
    long long i = start + threadIdx.x;
    float m = 0.f, v = 0.f;
    if (valid)
    {
        float gi = g[i];
        m = smap[s1[i]] * a1[block];
        v = umap[s2[i]] * a2[block];
        m = m * beta1 + one_minus_beta1 * gi;
        v = v * beta2 + one_minus_beta2 * (gi * gi);
        float denom = sqrtf(v) / bc2_sqrt + eps;
        float pi = decay != 1.f ? p[i] * decay : p[i];
        p[i] = pi + (-step_size) * (m / denom);
    }
    float am1 = block_max_256(fabsf(m), shared8);
    float am2 = block_max_256(fabsf(v), shared8);
    if (count < 256) { am1 = fmaxf(am1, 1e-38f); am2 = fmaxf(am2, 1e-38f); } // the unfused tail block stores it clamped
    if (valid)
    {
        float r1 = 1.0f / fmaxf(am1, 1e-38f), r2 = 1.0f / fmaxf(am2, 1e-38f);
        s1[i] = nearest_code(fminf(fmaxf(m * r1, -1.f), 1.f), sb);
        s2[i] = nearest_code(fminf(fmaxf(v * r2, -1.f), 1.f), ub);
    }
    if (threadIdx.x == 0) { a1[block] = am1; a2[block] = am2; }
}

// LoRA compute copies (Lora/LoraComputeWeights): dst_bf16 = bf16(src_fp32 * scale) over many 2-D regions. Slots: src
// (fp32), dst (bf16), scale (a double's bits), cols, src row stride, dst row stride (a block of a block-diagonal copy
// has a row stride wider than its columns). The product rounds once, as libtorch's (src * scale).to(bf16) does.
#define COPY_SLOTS 6
#define COPY_INDEX(k, cols, ld) (((k) / (cols)) * (ld) + (k) % (cols))

// This CUDA block's chunk of one copy pair: its table entry and the element range.
struct CopyChunk { const long long* entry; long long start; int count; float scale; long long cols, src_ld, dst_ld; };

__device__ __forceinline__ CopyChunk copy_chunk(const long long* table, int tensors)
{
    CopyChunk c;
    int t = CHUNK_TENSOR(table, tensors, COPY_SLOTS);
    c.start = CHUNK_START(table, tensors, COPY_SLOTS);
    c.count = CHUNK_COUNT(table, tensors, COPY_SLOTS);
    c.entry = table + (long long)COPY_SLOTS * t;
    c.scale = (float)__longlong_as_double(c.entry[2]);
    c.cols = c.entry[3];
    c.src_ld = c.entry[4];
    c.dst_ld = c.entry[5];
    return c;
}

extern "C" __global__ void cast_scale_multi_fp32_bf16(const long long* __restrict__ table, int tensors)
{
    CopyChunk c = copy_chunk(table, tensors);
    const float* src = (const float*)c.entry[0];
    bf16_t* dst = (bf16_t*)c.entry[1];
    for (int k = threadIdx.x; k < c.count; k += blockDim.x)
    {
        long long i = c.start + k;
        dst[COPY_INDEX(i, c.cols, c.dst_ld)] = float_to_bf16(src[COPY_INDEX(i, c.cols, c.src_ld)] * c.scale);
    }
}

// The way back for gradients: dst_fp32 (+)= scale * float(src_bf16), same slots; accumulate = 0 writes, 1 adds
// (gradient accumulation over micro-batches, in fp32 as the master grads are).
extern "C" __global__ void accumulate_scale_multi_bf16_fp32(const long long* __restrict__ table, int tensors, int accumulate)
{
    CopyChunk c = copy_chunk(table, tensors);
    const bf16_t* src = (const bf16_t*)c.entry[0];
    float* dst = (float*)c.entry[1];
    for (int k = threadIdx.x; k < c.count; k += blockDim.x)
    {
        long long i = c.start + k;
        long long d = COPY_INDEX(i, c.cols, c.dst_ld);
        float v = bf16_to_float(src[COPY_INDEX(i, c.cols, c.src_ld)]) * c.scale;
        dst[d] = accumulate ? dst[d] + v : v;
    }
}
