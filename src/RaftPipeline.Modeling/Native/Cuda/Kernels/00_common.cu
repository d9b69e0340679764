// Shared helpers. bf16 is handled as raw 16-bit patterns so the kernels need no CUDA headers (NVRTC compiles them
// without an include path). Compiled with --fmad=false so a*b+c rounds twice, as libtorch's separate kernels do.
typedef unsigned short bf16_t;

__device__ __forceinline__ float bf16_to_float(bf16_t v) { return __uint_as_float(((unsigned int)v) << 16); }

// Round to nearest even, as libtorch's float -> bfloat16 conversion.
__device__ __forceinline__ bf16_t float_to_bf16(float f)
{
    unsigned int b = __float_as_uint(f);
    if ((b & 0x7fffffffu) > 0x7f800000u) return (bf16_t)0x7fc0;
    b += 0x7fffu + ((b >> 16) & 1u);
    return (bf16_t)(b >> 16);
}

__device__ __forceinline__ float round_bf16(float f) { return bf16_to_float(float_to_bf16(f)); }

__device__ __forceinline__ float warp_sum(float v)
{
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}
