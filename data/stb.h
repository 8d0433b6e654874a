#pragma once
// stb_image and stb_image_write as this project uses them, configured in one place (every
// user includes this header; data/stb_impl.cpp compiles the implementations):
//   - decoding: PNG only, from memory only (no file API, so no path reads a file behind
//     our back), at most kMaxImageSide pixels a side, every allocation through
//     pmsdsen_stb_malloc/realloc, which data/stb_alloc.h caps per thread;
//   - encoding: PNG to memory only (stbi_write_png_to_func), the caller writes the bytes.
#include <cstddef>
#include <cstdlib>

extern "C" void* pmsdsen_stb_malloc(size_t size);
extern "C" void* pmsdsen_stb_realloc(void* p, size_t size);

#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_MAX_DIMENSIONS 65535
#define STBI_MALLOC(size) pmsdsen_stb_malloc(size)
#define STBI_REALLOC(p, size) pmsdsen_stb_realloc(p, size)
#define STBI_FREE(p) std::free(p)
#define STBI_WRITE_NO_STDIO

#include <stb_image.h>
#include <stb_image_write.h>

// Defined (not declared) by the stb_image_write implementation.
extern "C" unsigned char* stbi_zlib_compress(unsigned char* data, int data_len, int* out_len, int quality);
