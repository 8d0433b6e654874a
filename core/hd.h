#pragma once
// PMSDSEN_HD marks math shared by the CPU and CUDA backends: one definition,
// compiled for both, so the CPU tests cover the GPU arithmetic too.
#if defined(__CUDACC__)
#define PMSDSEN_HD __host__ __device__ __forceinline__
#else
#define PMSDSEN_HD inline
#endif
