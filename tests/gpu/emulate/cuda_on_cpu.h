// Runs CUDA C++ kernels on the CPU for checking their indexing and reductions where no GPU is at hand: every GPU
// thread of a block is an OS thread, blocks run one after another (so function-static "__shared__" arrays are the
// block's shared memory), __syncthreads / __syncwarp are barriers and the warp shuffle goes through a per-warp slot
// array. Slow and only for small shapes; the GPU checks (GpuChecks --decode) remain the proof.
#pragma once
#include <barrier>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

struct Dim3 { unsigned int x = 1, y = 1, z = 1; };
inline thread_local Dim3 threadIdx, blockIdx;
inline Dim3 blockDim, gridDim;

struct BlockSync
{
    std::unique_ptr<std::barrier<>> block;
    std::vector<std::unique_ptr<std::barrier<>>> warps;
    std::vector<float> fslots;
    std::vector<int> islots;
};
inline BlockSync* g_sync = nullptr;
inline std::vector<unsigned char> g_dynamic_shared(256 * 1024);

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __restrict__ __restrict
#define __launch_bounds__(...)

inline void __syncthreads() { g_sync->block->arrive_and_wait(); }
inline void __syncwarp(unsigned int = 0xffffffffu) { g_sync->warps[threadIdx.x / 32]->arrive_and_wait(); }
inline float __shfl_xor_sync(unsigned int, float v, int offset)
{
    int lane = threadIdx.x & 31, base = threadIdx.x & ~31;
    g_sync->fslots[threadIdx.x] = v;
    __syncwarp();
    float other = g_sync->fslots[base + (lane ^ offset)];
    __syncwarp();
    return other;
}
inline int __shfl_xor_sync(unsigned int, int v, int offset)
{
    int lane = threadIdx.x & 31, base = threadIdx.x & ~31;
    g_sync->islots[threadIdx.x] = v;
    __syncwarp();
    int other = g_sync->islots[base + (lane ^ offset)];
    __syncwarp();
    return other;
}
inline float __uint_as_float(unsigned int v) { float f; std::memcpy(&f, &v, 4); return f; }
inline float __int_as_float(int v) { float f; std::memcpy(&f, &v, 4); return f; }
inline unsigned int __float_as_uint(float v) { unsigned int u; std::memcpy(&u, &v, 4); return u; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float rsqrtf(float a) { return 1.0f / std::sqrt(a); }
#include <math.h>  // expf, fmaf, fmaxf as CUDA names them

// Launches kernel(args...) over grid × block (1-D), threads of a block concurrently, blocks in turn.
template <class F>
void launch(unsigned int grid, unsigned int block, F kernel)
{
    gridDim.x = grid;
    blockDim.x = block;
    for (unsigned int g = 0; g < grid; g++)
    {
        BlockSync sync;
        sync.block = std::make_unique<std::barrier<>>(block);
        for (unsigned int w = 0; w < (block + 31) / 32; w++) sync.warps.push_back(std::make_unique<std::barrier<>>(32));
        sync.fslots.resize(block);
        sync.islots.resize(block);
        g_sync = &sync;
        std::vector<std::thread> threads;
        for (unsigned int t = 0; t < block; t++)
            threads.emplace_back([&, t, g] { threadIdx.x = t; blockIdx.x = g; kernel(); });
        for (auto& t : threads) t.join();
    }
}
