// NF4 (bitsandbytes 4-bit NormalFloat) -> bf16 in one pass. One thread per packed byte: the high nibble is the even
// element, the low nibble the odd one. The block scale is the fp32 absmax, or with double quantization
// nested_map[code] * nested_absmax[block / nested_block] + nested_offset, computed with the same two roundings as the
// unfused ops (Nf4Quantizer.Dequantize), so both give identical bits.
extern "C" __global__ void nf4_dequantize_bf16(
    const unsigned char* __restrict__ packed, long long n, int block_size, const float* __restrict__ quant_map,
    const float* __restrict__ absmax, const unsigned char* __restrict__ absmax_codes,
    const float* __restrict__ nested_map, const float* __restrict__ nested_absmax, int nested_block,
    float nested_offset, bf16_t* __restrict__ out)
{
    __shared__ float map[16];
    if (threadIdx.x < 16) map[threadIdx.x] = quant_map[threadIdx.x];
    __syncthreads();
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long e = 2 * i;
    if (e >= n) return;
    long long block = e / block_size; // block_size is even: both nibbles share a block
    float scale = absmax != nullptr
        ? absmax[block]
        : __fadd_rn(__fmul_rn(nested_map[absmax_codes[block]], nested_absmax[block / nested_block]), nested_offset);
    unsigned char b = packed[i];
    out[e] = float_to_bf16(__fmul_rn(map[b >> 4], scale));
    if (e + 1 < n) out[e + 1] = float_to_bf16(__fmul_rn(map[b & 15], scale));
}
