// Skinny GEMMs of the decode step: y[b, n] = sum_k W[n, k] x[b, k] for a few rows b (batch <= 16), W [N, K] row-major.
// The step is bound by reading W once, so one warp owns one output row n for every b: each lane reads 16 bytes of W
// per iteration and the matching 16 bytes of each x row (x is small and stays in L1/L2), fp32 accumulators, one warp
// reduction per row at the end. BM (the batch rounded up to 1, 2, 4, 8 or 16) is a template parameter so the
// accumulators stay in registers; rows b >= batch are skipped uniformly. Outputs round to bf16 as libtorch's bf16 GEMM
// does; a residual, when given, is added after that rounding (h + bf16(o)), as the reference block adds.

#define DECODE_WARPS 8

struct Nf4Weight
{
    const unsigned char* packed;  // [N*K/2], even element in the high nibble
    const float* absmax;          // fp32 per 64-block, or null when double-quantized
    const unsigned char* codes;   // uint8 code per 64-block into nested_map (double quantization)
    const float* nested_map;      // [256]
    const float* nested_absmax;   // per nested block of absmax codes
    const float* quant_map;       // the 16 NF4 values
    int nested_block;
    float nested_offset;
    int block_size;               // 64
    int pad_;
};

// 16- and 8-byte read-only loads through inline PTX: NVRTC compiles without headers, so no vector types or __ldg needed.
struct u32x4 { unsigned int x, y, z, w; };
struct u32x2 { unsigned int x, y; };

__device__ __forceinline__ u32x4 load16(const void* p)
{
    u32x4 v;
    asm("ld.global.nc.v4.u32 {%0, %1, %2, %3}, [%4];" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}

__device__ __forceinline__ u32x2 load8(const void* p)
{
    u32x2 v;
    asm("ld.global.nc.v2.u32 {%0, %1}, [%2];" : "=r"(v.x), "=r"(v.y) : "l"(p));
    return v;
}

__device__ __forceinline__ void bf16x8_to_float(u32x4 v, float* f)
{
    f[0] = __uint_as_float(v.x << 16); f[1] = __uint_as_float(v.x & 0xffff0000u);
    f[2] = __uint_as_float(v.y << 16); f[3] = __uint_as_float(v.y & 0xffff0000u);
    f[4] = __uint_as_float(v.z << 16); f[5] = __uint_as_float(v.z & 0xffff0000u);
    f[6] = __uint_as_float(v.w << 16); f[7] = __uint_as_float(v.w & 0xffff0000u);
}

// acc[r][b] += W_r[:] . x[b, :] over this lane's share of K for R weight rows at once (K % 8 == 0, 16-byte aligned
// rows): each x piece is read once for the R rows, which halves the x traffic through L1 for R = 2 (what bounds the
// larger batches).
template <int BM, int R>
__device__ __forceinline__ void warp_dot_bf16(const bf16_t* const* wrows, const bf16_t* __restrict__ x, int ldx,
    int K, int batch, int lane, float (*acc)[BM])
{
#pragma unroll 2
    for (int k = lane * 8; k < K; k += 256)
    {
        float w[R][8];
#pragma unroll
        for (int r = 0; r < R; r++) bf16x8_to_float(load16(wrows[r] + k), w[r]);
#pragma unroll
        for (int b = 0; b < BM; b++)
        {
            if (b < batch)
            {
                float xf[8];
                bf16x8_to_float(load16(x + (long long)b * ldx + k), xf);
#pragma unroll
                for (int r = 0; r < R; r++)
                {
                    float s = acc[r][b];
#pragma unroll
                    for (int i = 0; i < 8; i++) s = fmaf(w[r][i], xf[i], s);
                    acc[r][b] = s;
                }
            }
        }
    }
}

// The 16 weights of one lane's piece of an NF4 row, dequantized exactly as nf4_dequantize_bf16 does (same roundings:
// identical bf16 values). e is the piece's first element (a multiple of 16, inside one 64-block).
__device__ __forceinline__ void nf4_piece(const Nf4Weight& q, const float* map, long long e, float* w)
{
    long long block = e / q.block_size;
    float scale = q.absmax != nullptr
        ? q.absmax[block]
        : __fadd_rn(__fmul_rn(q.nested_map[q.codes[block]], q.nested_absmax[block / q.nested_block]), q.nested_offset);
    u32x2 packed = load8(q.packed + e / 2);
#pragma unroll
    for (int i = 0; i < 4; i++)
    {
        unsigned int word = i < 2 ? (i == 0 ? packed.x : packed.x >> 16) : (i == 2 ? packed.y : packed.y >> 16);
        unsigned int b0 = word & 0xffu, b1 = (word >> 8) & 0xffu;
        w[4 * i + 0] = round_bf16(__fmul_rn(map[b0 >> 4], scale));
        w[4 * i + 1] = round_bf16(__fmul_rn(map[b0 & 15], scale));
        w[4 * i + 2] = round_bf16(__fmul_rn(map[b1 >> 4], scale));
        w[4 * i + 3] = round_bf16(__fmul_rn(map[b1 & 15], scale));
    }
}

// The same dot products for R NF4 rows (descriptor qs[r], its map maps[r], row index rows[r]); each lane takes 16
// consecutive elements (8 bytes of codes) per iteration, K % 64 == 0.
template <int BM, int R>
__device__ __forceinline__ void warp_dot_nf4(const Nf4Weight* qs, const float* const* maps, const long long* rows,
    const bf16_t* __restrict__ x, int ldx, int K, int batch, int lane, float (*acc)[BM])
{
#pragma unroll 2
    for (int k = lane * 16; k < K; k += 512)
    {
        float w[R][16];
#pragma unroll
        for (int r = 0; r < R; r++) nf4_piece(qs[r], maps[r], rows[r] * K + k, w[r]);
#pragma unroll
        for (int b = 0; b < BM; b++)
        {
            if (b < batch)
            {
                const bf16_t* xr = x + (long long)b * ldx + k;
                float xf[16];
                bf16x8_to_float(load16(xr), xf);
                bf16x8_to_float(load16(xr + 8), xf + 8);
#pragma unroll
                for (int r = 0; r < R; r++)
                {
                    float s = acc[r][b];
#pragma unroll
                    for (int i = 0; i < 16; i++) s = fmaf(w[r][i], xf[i], s);
                    acc[r][b] = s;
                }
            }
        }
    }
}

template <int BM, int R>
__device__ __forceinline__ void reduce_all(float (*acc)[BM])
{
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int b = 0; b < BM; b++) acc[r][b] = warp_sum(acc[r][b]);
}

template <int BM, int R>
__device__ __forceinline__ void zero_all(float (*acc)[BM])
{
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int b = 0; b < BM; b++) acc[r][b] = 0.f;
}

// Lane b writes row b's value for each of the R output columns col0 + r (all lanes hold every sum after the butterfly).
template <int BM, int R>
__device__ __forceinline__ void store_rows(float (*acc)[BM], int lane, int batch, long long col0, bf16_t* y, int ldy,
    const bf16_t* resid)
{
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int b = 0; b < BM; b++)
        {
            if (lane == b && b < batch)
            {
                long long at = (long long)b * ldy + col0 + r;
                float v = round_bf16(acc[r][b]);
                if (resid != nullptr) v = bf16_to_float(resid[at]) + v;
                y[at] = float_to_bf16(v);
            }
        }
}

// Up to three weights stacked along N (q | k | v): rows [0, n0) of w0, [n0, n01) of w1, [n01, N) of w2; output column =
// the stacked row. Each warp takes R consecutive rows (n0, n01 and N are multiples of R, so they share a segment).
// resid may alias y (each element is read and written by the same lane).
template <int BM, int R>
__device__ void gemv_bf16(const bf16_t* __restrict__ w0, const bf16_t* __restrict__ w1, const bf16_t* __restrict__ w2,
    int n0, int n01, int N, int K, const bf16_t* __restrict__ x, int ldx, int batch, bf16_t* y, int ldy, const bf16_t* resid)
{
    int lane = threadIdx.x & 31;
    int row = (blockIdx.x * DECODE_WARPS + (threadIdx.x >> 5)) * R;
    if (row >= N) return;
    const bf16_t* base = row < n0 ? w0 + (long long)row * K
        : row < n01 ? w1 + (long long)(row - n0) * K : w2 + (long long)(row - n01) * K;
    const bf16_t* wrows[R];
#pragma unroll
    for (int r = 0; r < R; r++) wrows[r] = base + (long long)r * K;
    float acc[R][BM];
    zero_all<BM, R>(acc);
    warp_dot_bf16<BM, R>(wrows, x, ldx, K, batch, lane, acc);
    reduce_all<BM, R>(acc);
    store_rows<BM, R>(acc, lane, batch, row, y, ldy, resid);
}

// gate and up rows n of one warp, out[b, n] = bf16(bf16(silu(bf16(gate))) * bf16(up)) as swiglu_forward_bf16 rounds.
__device__ __forceinline__ float swiglu_value(float gate_acc, float up_acc)
{
    float g = round_bf16(gate_acc);
    float s = g / (1.0f + expf(-g));
    return round_bf16(s) * round_bf16(up_acc);
}

// gate and up of one output column per warp, read together (the x pieces once for both rows).
template <int BM>
__device__ void gemv_swiglu_bf16(const bf16_t* __restrict__ wg, const bf16_t* __restrict__ wu, int N, int K,
    const bf16_t* __restrict__ x, int batch, bf16_t* __restrict__ out)
{
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * DECODE_WARPS + (threadIdx.x >> 5);
    if (row >= N) return;
    const bf16_t* wrows[2] = { wg + (long long)row * K, wu + (long long)row * K };
    float acc[2][BM];
    zero_all<BM, 2>(acc);
    warp_dot_bf16<BM, 2>(wrows, x, K, K, batch, lane, acc);
    reduce_all<BM, 2>(acc);
#pragma unroll
    for (int b = 0; b < BM; b++)
        if (lane == b && b < batch) out[(long long)b * N + row] = float_to_bf16(swiglu_value(acc[0][b], acc[1][b]));
}

// NF4 forms: the weights as descriptors in device memory (d0..d2 index the stacked segments; -1 unused).
template <int BM, int R>
__device__ void gemv_nf4(const Nf4Weight* __restrict__ descs, int d0, int d1, int d2, int n0, int n01, int N, int K,
    const bf16_t* __restrict__ x, int ldx, int batch, bf16_t* y, int ldy, const bf16_t* resid)
{
    __shared__ float maps[DECODE_WARPS][16];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int row = (blockIdx.x * DECODE_WARPS + warp) * R;
    if (row >= N) return;
    int d = row < n0 ? d0 : row < n01 ? d1 : d2;
    long long local = row < n0 ? row : row < n01 ? row - n0 : row - n01;
    Nf4Weight qs[R];
    const float* mp[R];
    long long rows[R];
#pragma unroll
    for (int r = 0; r < R; r++) { qs[r] = descs[d]; mp[r] = maps[warp]; rows[r] = local + r; }
    if (lane < 16) maps[warp][lane] = qs[0].quant_map[lane];
    __syncwarp();
    float acc[R][BM];
    zero_all<BM, R>(acc);
    warp_dot_nf4<BM, R>(qs, mp, rows, x, ldx, K, batch, lane, acc);
    reduce_all<BM, R>(acc);
    store_rows<BM, R>(acc, lane, batch, row, y, ldy, resid);
}

template <int BM>
__device__ void gemv_swiglu_nf4(const Nf4Weight* __restrict__ descs, int dg, int du, int N, int K,
    const bf16_t* __restrict__ x, int batch, bf16_t* __restrict__ out)
{
    __shared__ float maps[DECODE_WARPS][2][16];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int row = blockIdx.x * DECODE_WARPS + warp;
    if (row >= N) return;
    Nf4Weight qs[2] = { descs[dg], descs[du] };
    if (lane < 16) maps[warp][0][lane] = qs[0].quant_map[lane];
    else maps[warp][1][lane - 16] = qs[1].quant_map[lane - 16];
    __syncwarp();
    const float* mp[2] = { maps[warp][0], maps[warp][1] };
    long long rows[2] = { row, row };
    float acc[2][BM];
    zero_all<BM, 2>(acc);
    warp_dot_nf4<BM, 2>(qs, mp, rows, x, K, K, batch, lane, acc);
    reduce_all<BM, 2>(acc);
#pragma unroll
    for (int b = 0; b < BM; b++)
        if (lane == b && b < batch) out[(long long)b * N + row] = float_to_bf16(swiglu_value(acc[0][b], acc[1][b]));
}

// Rows per warp of the stacked GEMMs: 2 from batch 4 up (x read once for two rows), 1 below (more warps in flight).
#define DECODE_GEMV_FORMS(BM)                                                                                              \
    extern "C" __global__ void __launch_bounds__(256) decode_gemv_bf16_b##BM(const bf16_t* w0, const bf16_t* w1,            \
        const bf16_t* w2, int n0, int n01, int N, int K, const bf16_t* x, int ldx, int batch, bf16_t* y, int ldy,          \
        const bf16_t* resid)                                                                                               \
    { gemv_bf16<BM, (BM >= 4 ? 2 : 1)>(w0, w1, w2, n0, n01, N, K, x, ldx, batch, y, ldy, resid); }                        \
    extern "C" __global__ void __launch_bounds__(256) decode_gemv_swiglu_bf16_b##BM(const bf16_t* wg, const bf16_t* wu,     \
        int N, int K, const bf16_t* x, int batch, bf16_t* out)                                                             \
    { gemv_swiglu_bf16<BM>(wg, wu, N, K, x, batch, out); }                                                                 \
    extern "C" __global__ void __launch_bounds__(256) decode_gemv_nf4_b##BM(const Nf4Weight* descs, int d0, int d1, int d2, \
        int n0, int n01, int N, int K, const bf16_t* x, int ldx, int batch, bf16_t* y, int ldy, const bf16_t* resid)       \
    { gemv_nf4<BM, (BM >= 4 ? 2 : 1)>(descs, d0, d1, d2, n0, n01, N, K, x, ldx, batch, y, ldy, resid); }                  \
    extern "C" __global__ void __launch_bounds__(256) decode_gemv_swiglu_nf4_b##BM(const Nf4Weight* descs, int dg, int du,  \
        int N, int K, const bf16_t* x, int batch, bf16_t* out)                                                             \
    { gemv_swiglu_nf4<BM>(descs, dg, du, N, K, x, batch, out); }

DECODE_GEMV_FORMS(1)
DECODE_GEMV_FORMS(2)
DECODE_GEMV_FORMS(4)
DECODE_GEMV_FORMS(8)
DECODE_GEMV_FORMS(16)
