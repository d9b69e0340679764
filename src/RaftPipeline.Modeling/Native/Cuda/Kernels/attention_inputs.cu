// Attention inputs in one pass (Qwen3): per-head RMSNorm of q and k, RoPE, the move from the projections' layout
// [B, T, heads, D] to SDPA's [B, heads, T, D], and GQA's repetition of each k/v head for its query heads
// (transformers' repeat_kv). Same roundings as rms_norm_forward_bf16 followed by rope_forward_bf16, then copies.
// One warp per source row: per token, `heads` q rows, then `kv_heads` k rows, then `kv_heads` v rows. q, k and v
// are per-token rows with strides q_ld / kv_ld: three tensors, or the three column blocks of one fused q|k|v projection
// output (then both strides are its width, and the backward writes one fused gradient the same way).
#define ATTN_MAX_DIM 256
#define ATTN_WARPS 8

__device__ __forceinline__ bool attention_row(long long row, int heads, int kv_heads, int seq,
    long long* bt, int* b, int* t, int* slot)
{
    int per_token = heads + 2 * kv_heads;
    *bt = row / per_token;
    *slot = (int)(row % per_token);
    *b = (int)(*bt / seq);
    *t = (int)(*bt % seq);
    return true;
}

extern "C" __global__ void attention_inputs_forward_bf16(
    const bf16_t* __restrict__ q, const bf16_t* __restrict__ k, const bf16_t* __restrict__ v,
    const bf16_t* __restrict__ q_weight, const bf16_t* __restrict__ k_weight,
    const bf16_t* __restrict__ cos_, const bf16_t* __restrict__ sin_,
    bf16_t* __restrict__ q_out, bf16_t* __restrict__ k_out, bf16_t* __restrict__ v_out,
    long long rows, int seq, int heads, int kv_heads, int dim, float eps, long long q_ld, long long kv_ld)
{
    __shared__ float normed[ATTN_WARPS][ATTN_MAX_DIM];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    long long row = (long long)blockIdx.x * ATTN_WARPS + warp;
    if (row >= rows) return; // whole warps only: every shuffle below has all 32 lanes
    long long bt; int b, t, slot;
    attention_row(row, heads, kv_heads, seq, &bt, &b, &t, &slot);
    int groups = heads / kv_heads;
    if (slot >= heads + kv_heads)
    {
        int j = slot - heads - kv_heads;
        const bf16_t* src = v + bt * kv_ld + (long long)j * dim;
        for (int i = 0; i < groups; i++)
        {
            bf16_t* dst = v_out + (((long long)b * heads + j * groups + i) * seq + t) * dim;
            for (int c = lane; c < dim; c += 32) dst[c] = src[c];
        }
        return;
    }
    bool is_q = slot < heads;
    int h = is_q ? slot : slot - heads;
    const bf16_t* src = is_q ? q + bt * q_ld + (long long)h * dim : k + bt * kv_ld + (long long)h * dim;
    const bf16_t* w = is_q ? q_weight : k_weight;
    float* buf = normed[warp];
    float sum = 0.f;
    for (int c = lane; c < dim; c += 32) { float x = bf16_to_float(src[c]); sum += x * x; }
    float r = rsqrtf(warp_sum(sum) / dim + eps);
    for (int c = lane; c < dim; c += 32)
        buf[c] = bf16_to_float(float_to_bf16(bf16_to_float(w[c]) * round_bf16(bf16_to_float(src[c]) * r)));
    __syncwarp();
    int half = dim >> 1;
    const bf16_t* cs = cos_ + bt * dim;
    const bf16_t* sn = sin_ + bt * dim;
    int copies = is_q ? 1 : groups;
    bf16_t* out = is_q ? q_out : k_out;
    for (int c = lane; c < dim; c += 32)
    {
        float rot = c < half ? -buf[c + half] : buf[c - half];
        bf16_t o = float_to_bf16(round_bf16(buf[c] * bf16_to_float(cs[c])) + round_bf16(rot * bf16_to_float(sn[c])));
        for (int i = 0; i < copies; i++)
        {
            int head = is_q ? h : h * groups + i;
            out[(((long long)b * heads + head) * seq + t) * dim + c] = o;
        }
    }
}

// The way back: the repeated heads' gradients summed (fp32, rounded once, as repeat_kv's backward), then the RoPE
// backward (rounded to bf16 as rope_backward_bf16 writes it), then the RMSNorm backward (rms_norm_backward_bf16),
// written in the projections' layout. gq/gk/gv are [B, heads, T, D]; q/k are the forward's inputs.
extern "C" __global__ void attention_inputs_backward_bf16(
    const bf16_t* __restrict__ gq, const bf16_t* __restrict__ gk, const bf16_t* __restrict__ gv,
    const bf16_t* __restrict__ q, const bf16_t* __restrict__ k,
    const bf16_t* __restrict__ q_weight, const bf16_t* __restrict__ k_weight,
    const bf16_t* __restrict__ cos_, const bf16_t* __restrict__ sin_,
    bf16_t* __restrict__ gq_in, bf16_t* __restrict__ gk_in, bf16_t* __restrict__ gv_in,
    long long rows, int seq, int heads, int kv_heads, int dim, float eps, long long q_ld, long long kv_ld)
{
    __shared__ float arriving[ATTN_WARPS][ATTN_MAX_DIM];
    __shared__ float before_rope[ATTN_WARPS][ATTN_MAX_DIM];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    long long row = (long long)blockIdx.x * ATTN_WARPS + warp;
    if (row >= rows) return;
    long long bt; int b, t, slot;
    attention_row(row, heads, kv_heads, seq, &bt, &b, &t, &slot);
    int groups = heads / kv_heads;
    if (slot >= heads + kv_heads)
    {
        int j = slot - heads - kv_heads;
        bf16_t* dst = gv_in + bt * kv_ld + (long long)j * dim;
        for (int c = lane; c < dim; c += 32)
        {
            float s = 0.f;
            for (int i = 0; i < groups; i++) s += bf16_to_float(gv[(((long long)b * heads + j * groups + i) * seq + t) * dim + c]);
            dst[c] = float_to_bf16(s);
        }
        return;
    }
    bool is_q = slot < heads;
    int h = is_q ? slot : slot - heads;
    const bf16_t* g = is_q ? gq : gk;
    int copies = is_q ? 1 : groups;
    float* arr = arriving[warp];
    float* gy = before_rope[warp];
    for (int c = lane; c < dim; c += 32)
    {
        float s = 0.f;
        for (int i = 0; i < copies; i++)
        {
            int head = is_q ? h : h * groups + i;
            s += bf16_to_float(g[(((long long)b * heads + head) * seq + t) * dim + c]);
        }
        arr[c] = round_bf16(s);
    }
    __syncwarp();
    int half = dim >> 1;
    const bf16_t* cs = cos_ + bt * dim;
    const bf16_t* sn = sin_ + bt * dim;
    for (int c = lane; c < dim; c += 32)
    {
        float other = c < half ? arr[c + half] * bf16_to_float(sn[c + half]) : -arr[c - half] * bf16_to_float(sn[c - half]);
        gy[c] = round_bf16(arr[c] * bf16_to_float(cs[c]) + other);
    }
    __syncwarp();
    const bf16_t* x = is_q ? q + bt * q_ld + (long long)h * dim : k + bt * kv_ld + (long long)h * dim;
    const bf16_t* w = is_q ? q_weight : k_weight;
    float sum = 0.f;
    for (int c = lane; c < dim; c += 32) { float v = bf16_to_float(x[c]); sum += v * v; }
    float r = rsqrtf(warp_sum(sum) / dim + eps);
    float dot = 0.f;
    for (int c = lane; c < dim; c += 32) dot += gy[c] * bf16_to_float(w[c]) * (bf16_to_float(x[c]) * r);
    float mean = warp_sum(dot) / dim;
    bf16_t* dst = is_q ? gq_in + bt * q_ld + (long long)h * dim : gk_in + bt * kv_ld + (long long)h * dim;
    for (int c = lane; c < dim; c += 32)
    {
        float gw = gy[c] * bf16_to_float(w[c]);
        float xh = bf16_to_float(x[c]) * r;
        dst[c] = float_to_bf16(r * (gw - xh * mean));
    }
}
