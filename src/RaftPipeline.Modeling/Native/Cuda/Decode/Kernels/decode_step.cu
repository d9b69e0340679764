// The non-GEMM kernels of one decode step. Everything that changes from step to step is read from device memory
// (state[0] = the cache slot of the new token, ids = the new tokens, pads[b] = the first real slot of row b), so the
// launches take the same arguments every step and one captured CUDA graph replays the whole step.

// h[b, :] = table[ids[b], :]. One block per row. With a repetition penalty, the new token joins the row's seen set
// (seen [B, vocab], null otherwise), as the reference penalises every id of the sequence so far.
extern "C" __global__ void __launch_bounds__(256) decode_embed(const bf16_t* __restrict__ table, const int* __restrict__ ids, int hidden,
    bf16_t* __restrict__ h, unsigned char* __restrict__ seen, int vocab)
{
    int b = blockIdx.x;
    if (seen != nullptr && threadIdx.x == 0) seen[(long long)b * vocab + ids[b]] = 1;
    const bf16_t* src = table + (long long)ids[b] * hidden;
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) h[(long long)b * hidden + c] = src[c];
}

// RMSNorm of one row per block, bit-identical to rms_norm_forward_bf16 (the reference's kernel): the row is staged in
// shared memory by the whole block, then warp 0 sums the squares in that kernel's order (lane l takes l, l+32, ...,
// then the butterfly), and every thread writes bf16(w * bf16(x * r)). cols <= 8192 (the shared buffer).
// With delta (a projection's output that cuBLAS wrote apart), the row is first the residual add h = bf16(h + delta),
// written back to h, as the reference block adds before its next norm.
__device__ __forceinline__ void rms_norm_row(bf16_t* __restrict__ x, const bf16_t* __restrict__ delta,
    const bf16_t* __restrict__ weight, bf16_t* __restrict__ y, int cols, float eps)
{
    __shared__ float row[8192];
    __shared__ float rinv;
    int b = blockIdx.x;
    bf16_t* xr = x + (long long)b * cols;
    if (delta == nullptr)
        for (int c = threadIdx.x; c < cols; c += blockDim.x) row[c] = bf16_to_float(xr[c]);
    else
    {
        const bf16_t* dr = delta + (long long)b * cols;
        for (int c = threadIdx.x; c < cols; c += blockDim.x)
        {
            float v = round_bf16(bf16_to_float(xr[c]) + bf16_to_float(dr[c]));
            row[c] = v;
            xr[c] = float_to_bf16(v);
        }
    }
    __syncthreads();
    if (threadIdx.x < 32)
    {
        float sum = 0.f;
        for (int c = threadIdx.x; c < cols; c += 32) sum += row[c] * row[c];
        float r = rsqrtf(warp_sum(sum) / cols + eps);
        if (threadIdx.x == 0) rinv = r;
    }
    __syncthreads();
    float r = rinv;
    bf16_t* yr = y + (long long)b * cols;
    for (int c = threadIdx.x; c < cols; c += blockDim.x)
        yr[c] = float_to_bf16(bf16_to_float(weight[c]) * round_bf16(row[c] * r));
}

extern "C" __global__ void __launch_bounds__(256) decode_rms_norm(const bf16_t* __restrict__ x, const bf16_t* __restrict__ weight,
    bf16_t* __restrict__ y, int cols, float eps)
{
    rms_norm_row(const_cast<bf16_t*>(x), nullptr, weight, y, cols, eps);
}

extern "C" __global__ void __launch_bounds__(256) decode_add_rms_norm(bf16_t* __restrict__ h, const bf16_t* __restrict__ delta,
    const bf16_t* __restrict__ weight, bf16_t* __restrict__ y, int cols, float eps)
{
    rms_norm_row(h, delta, weight, y, cols, eps);
}

// act[b, n] = bf16(bf16(silu(gate)) * up) from gate|up [B, 2·inner] that cuBLAS wrote (gate columns first), as
// swiglu_forward_bf16 rounds. One thread per output element.
extern "C" __global__ void __launch_bounds__(256) decode_swiglu(const bf16_t* __restrict__ gate_up, int inner, int batch,
    bf16_t* __restrict__ act)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)batch * inner) return;
    long long b = i / inner, n = i % inner;
    const bf16_t* row = gate_up + b * 2 * inner;
    act[i] = float_to_bf16(swiglu_value(bf16_to_float(row[n]), bf16_to_float(row[inner + n])));
}

// One warp per head row of the stacked q|k|v projection [B, (H + 2·KVH)·D]: the per-head RMSNorm of q and k (when the
// weights are given; same order of sums as the reference kernel), RoPE at the row's position (cos/sin tables [slots, D],
// the reference's bf16 values; rope_forward_bf16's roundings), q to q_out [B, H, D], k and v into the static cache
// [B, KVH, capacity, D] at the step's slot. D <= 256 and even.
extern "C" __global__ void __launch_bounds__(256) decode_qk_rope_cache(const bf16_t* __restrict__ qkv, const bf16_t* __restrict__ q_norm,
    const bf16_t* __restrict__ k_norm, float eps, const bf16_t* __restrict__ cos_t, const bf16_t* __restrict__ sin_t,
    const int* __restrict__ state, const int* __restrict__ pads, int batch, int heads, int kv_heads, int dim, int capacity,
    bf16_t* __restrict__ q_out, bf16_t* __restrict__ k_cache, bf16_t* __restrict__ v_cache)
{
    __shared__ float rows[8][256];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int per_row = heads + 2 * kv_heads;
    int item = blockIdx.x * 8 + warp;
    if (item >= batch * per_row) return;
    int b = item / per_row, j = item % per_row;
    int slot = state[0];
    int pos = slot - pads[b];
    const bf16_t* src = qkv + (long long)b * per_row * dim + (long long)j * dim;
    float* row = rows[warp];
    for (int c = lane; c < dim; c += 32) row[c] = bf16_to_float(src[c]);
    __syncwarp();
    if (j >= heads + kv_heads)
    {
        int kh = j - heads - kv_heads;
        bf16_t* dst = v_cache + (((long long)b * kv_heads + kh) * capacity + slot) * dim;
        for (int c = lane; c < dim; c += 32) dst[c] = src[c];
        return;
    }
    const bf16_t* norm = j < heads ? q_norm : k_norm;
    if (norm != nullptr)
    {
        float sum = 0.f;
        for (int c = lane; c < dim; c += 32) sum += row[c] * row[c];
        float r = rsqrtf(warp_sum(sum) / dim + eps);
        __syncwarp();
        for (int c = lane; c < dim; c += 32) row[c] = round_bf16(bf16_to_float(norm[c]) * round_bf16(row[c] * r));
        __syncwarp();
    }
    int half = dim >> 1;
    const bf16_t* cr = cos_t + (long long)pos * dim;
    const bf16_t* sr = sin_t + (long long)pos * dim;
    float out[8];
    int n = 0;
    for (int c = lane; c < dim; c += 32, n++)
    {
        float rot = c < half ? -row[c + half] : row[c - half];
        out[n] = round_bf16(row[c] * bf16_to_float(cr[c])) + round_bf16(rot * bf16_to_float(sr[c]));
    }
    bf16_t* dst = j < heads
        ? q_out + ((long long)b * heads + j) * dim
        : k_cache + (((long long)b * kv_heads + (j - heads)) * capacity + slot) * dim;
    n = 0;
    for (int c = lane; c < dim; c += 32, n++) dst[c] = float_to_bf16(out[n]);
}

__device__ __forceinline__ float block_reduce(float v, float* scratch, bool is_max)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    for (int o = 16; o > 0; o >>= 1)
    {
        float other = __shfl_xor_sync(0xffffffffu, v, o);
        v = is_max ? fmaxf(v, other) : v + other;
    }
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float r = scratch[0];
    for (int w = 1; w < warps; w++) r = is_max ? fmaxf(r, scratch[w]) : r + scratch[w];
    return r;
}

// Attention of one new query per (row, head) over the cached slots [pads[b], slot] of its key/value head (GQA: query
// head h reads kv head h / (H / KVH)). Scores and softmax in fp32; the output rounds to bf16, laid out [B, H·D] (the
// o projection's input). One block of 128 threads per (b, h); dynamic shared memory holds the scores (capacity floats).
// Scores: one key per thread, read in 16-byte pieces (many independent loads in flight). Values: each warp sums a
// quarter of the keys for every dimension (lane l owns dimensions l, l+32, ...), then the warps' partial sums are added.
// D % 8 == 0 and D <= 256.
extern "C" __global__ void __launch_bounds__(128) decode_attention(const bf16_t* __restrict__ q, const bf16_t* __restrict__ k_cache,
    const bf16_t* __restrict__ v_cache, const int* __restrict__ state, const int* __restrict__ pads, int heads,
    int kv_heads, int dim, int capacity, float scale, bf16_t* __restrict__ out)
{
    extern __shared__ float scores[];
    __shared__ float qs[256];
    __shared__ float partial[4][256];
    __shared__ float scratch[32];
    int b = blockIdx.x / heads, h = blockIdx.x % heads;
    int kh = h / (heads / kv_heads);
    int slot = state[0], first = pads[b];
    int length = slot - first + 1;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const bf16_t* qr = q + ((long long)b * heads + h) * dim;
    for (int c = threadIdx.x; c < dim; c += blockDim.x) qs[c] = bf16_to_float(qr[c]);
    __syncthreads();
    const bf16_t* keys = k_cache + (((long long)b * kv_heads + kh) * capacity + first) * dim;
    const bf16_t* values = v_cache + (((long long)b * kv_heads + kh) * capacity + first) * dim;
    float local_max = __int_as_float(0xff800000);
    for (int j = threadIdx.x; j < length; j += blockDim.x)
    {
        const bf16_t* kr = keys + (long long)j * dim;
        float s = 0.f;
        for (int c = 0; c < dim; c += 8)
        {
            u32x4 kv = load16(kr + c);
            float kf[8];
            bf16x8_to_float(kv, kf);
#pragma unroll
            for (int i = 0; i < 8; i++) s += qs[c + i] * kf[i];
        }
        s *= scale;
        scores[j] = s;
        local_max = fmaxf(local_max, s);
    }
    float m = block_reduce(local_max, scratch, true);
    float local_sum = 0.f;
    for (int j = threadIdx.x; j < length; j += blockDim.x)
    {
        float p = expf(scores[j] - m);
        scores[j] = p;
        local_sum += p;
    }
    float total = block_reduce(local_sum, scratch, false);
    float acc[8];
#pragma unroll
    for (int i = 0; i < 8; i++) acc[i] = 0.f;
    int per_lane = dim >> 5;  // dimensions per lane (D / 32, at most 8); D < 32 is handled below
    if (per_lane > 0)
    {
#pragma unroll 4
        for (int j = warp; j < length; j += 4)
        {
            float p = scores[j];
            const bf16_t* vr = values + (long long)j * dim + lane;
#pragma unroll
            for (int i = 0; i < 8; i++)
                if (i < per_lane) acc[i] += p * bf16_to_float(vr[32 * i]);
        }
#pragma unroll
        for (int i = 0; i < 8; i++)
            if (i < per_lane) partial[warp][lane + 32 * i] = acc[i];
    }
    __syncthreads();
    for (int c = threadIdx.x; c < dim; c += blockDim.x)
    {
        float v;
        if (per_lane > 0) v = (partial[0][c] + partial[1][c]) + (partial[2][c] + partial[3][c]);
        else
        {
            v = 0.f;
            for (int j = 0; j < length; j++) v += scores[j] * bf16_to_float(values[(long long)j * dim + c]);
        }
        out[(long long)b * heads * dim + (long long)h * dim + c] = float_to_bf16(v / total);
    }
}

// Greedy choice per row over bf16 logits [B, V]: the largest value, the lowest index among equals (torch.argmax's
// rule). One block per row; next[b] gets the id. V % 8 == 0: each thread reads 16 bytes at a time. With seen (null:
// none), the repetition penalty first, in fp32 as transformers' processor: a seen score s becomes s < 0 ? s·p : s / p.
__device__ __forceinline__ void better(float& v, int& index, float ov, int oi)
{
    if (ov > v || (ov == v && oi < index)) { v = ov; index = oi; }
}

extern "C" __global__ void __launch_bounds__(1024) decode_argmax(const bf16_t* __restrict__ logits, int vocab, const unsigned char* __restrict__ seen,
    float penalty, int* __restrict__ next)
{
    __shared__ float best_v[32];
    __shared__ int best_i[32];
    int b = blockIdx.x;
    const bf16_t* row = logits + (long long)b * vocab;
    float v = __int_as_float(0xff800000);
    int index = 0x7fffffff;
#pragma unroll 4
    for (int c = threadIdx.x * 8; c < vocab; c += blockDim.x * 8)
    {
        float x[8];
        bf16x8_to_float(load16(row + c), x);
        if (seen != nullptr)
        {
            u32x2 mark = load8(seen + (long long)b * vocab + c);
#pragma unroll
            for (int i = 0; i < 8; i++)
            {
                unsigned int byte = ((i < 4 ? mark.x : mark.y) >> (8 * (i & 3))) & 0xffu;
                if (byte != 0) x[i] = x[i] < 0.f ? __fmul_rn(x[i], penalty) : __fdiv_rn(x[i], penalty);
            }
        }
#pragma unroll
        for (int i = 0; i < 8; i++) better(v, index, x[i], c + i);
    }
    for (int o = 16; o > 0; o >>= 1)
    {
        float ov = __shfl_xor_sync(0xffffffffu, v, o);
        int oi = __shfl_xor_sync(0xffffffffu, index, o);
        better(v, index, ov, oi);
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { best_v[warp] = v; best_i[warp] = index; }
    __syncthreads();
    if (threadIdx.x == 0)
    {
        for (int w = 1; w < (int)(blockDim.x >> 5); w++) better(v, index, best_v[w], best_i[w]);
        next[b] = index == 0x7fffffff ? 0 : index;
    }
}
