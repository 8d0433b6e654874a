#include "data/jpeg_decode.h"

// jpeglib.h needs FILE and size_t declared first.
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include <jerror.h>
#include <jpeglib.h>

#include "core/error.h"
#include "data/image_decode.h"

namespace pmsdsen::data {
namespace {

// libjpeg reports errors through error_exit, which must not return: ours jumps back to
// decode() with the message.
struct Failure {
  jpeg_error_mgr mgr;  // first: libjpeg hands our callbacks a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX + 64];
};

[[noreturn]] void jump_back(j_common_ptr cinfo) {
  std::longjmp(reinterpret_cast<Failure*>(cinfo->err)->jump, 1);
}

[[noreturn]] void on_error(j_common_ptr cinfo) {
  (*cinfo->err->format_message)(cinfo, reinterpret_cast<Failure*>(cinfo->err)->message);
  jump_back(cinfo);
}

// Warnings about metadata are let pass; a warning about the image data means libjpeg
// would fill the rest with grey: that is an error here.
bool harmless(int code) {
  return code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM ||
         code == JWRN_BOGUS_ICC;
}

void on_message(j_common_ptr cinfo, int level) {
  if (level < 0 && !harmless(cinfo->err->msg_code)) on_error(cinfo);
}

void on_progress(j_common_ptr cinfo) {
  const auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number <= kMaxJpegScans) return;
  std::snprintf(reinterpret_cast<Failure*>(cinfo->err)->message, JMSG_LENGTH_MAX, "more than %d scans",
                kMaxJpegScans);
  jump_back(cinfo);
}

enum class Outcome { Decoded, LibjpegError, Refused };

// What decode() reads and writes. Trivially destructible, as is everything in decode()'s
// frame, which a longjmp may leave.
struct Job {
  const unsigned char* data;
  unsigned long size;
  int64_t max_pixels;
  // Called once the size is known and accepted; returns the w * h * 3 output bytes, or
  // null when they cannot be had.
  uint8_t* (*allocate)(void* context, int64_t height, int64_t width);
  void* context;
  int64_t width = 0, height = 0;
  Outcome outcome = Outcome::LibjpegError;
  char message[JMSG_LENGTH_MAX + 64] = {};
};

void refuse(Job& job, const char* format, long a = 0, long b = 0) {
  job.outcome = Outcome::Refused;
  std::snprintf(job.message, sizeof job.message, format, a, b);
}

void decode(Job& job) {
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);
  Failure failure;
  jpeg_progress_mgr progress;
  std::memset(&progress, 0, sizeof progress);
  cinfo.err = jpeg_std_error(&failure.mgr);
  failure.mgr.error_exit = on_error;
  failure.mgr.emit_message = on_message;
  if (setjmp(failure.jump)) {
    job.outcome = Outcome::LibjpegError;
    std::snprintf(job.message, sizeof job.message, "%s", failure.message);
    jpeg_destroy_decompress(&cinfo);
    return;
  }
  jpeg_create_decompress(&cinfo);
  progress.progress_monitor = on_progress;
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, job.data, job.size);
  jpeg_read_header(&cinfo, TRUE);
  job.width = cinfo.image_width;
  job.height = cinfo.image_height;
  if (job.width < 1 || job.height < 1 || job.width > kMaxImageSide || job.height > kMaxImageSide ||
      job.width * job.height > job.max_pixels) {
    job.outcome = Outcome::Refused;  // the caller words the size error
    job.message[0] = '\0';
  } else if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    refuse(job, "CMYK JPEGs are not read (only greyscale and colour ones)");
  } else if (cinfo.num_components != 1 && cinfo.num_components != 3) {
    refuse(job, "a JPEG with %ld colour components; only greyscale and colour ones are read",
           cinfo.num_components);
  } else {
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    uint8_t* out = job.allocate(job.context, job.height, job.width);
    if (out == nullptr) {
      refuse(job, "not enough memory for its %ldx%ld pixels", static_cast<long>(job.width),
             static_cast<long>(job.height));
    } else {
      while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + static_cast<size_t>(cinfo.output_scanline) * static_cast<size_t>(job.width) * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
      }
      jpeg_finish_decompress(&cinfo);
      job.outcome = Outcome::Decoded;
    }
  }
  jpeg_destroy_decompress(&cinfo);
}

uint8_t* allocate_image(void* context, int64_t height, int64_t width) {
  auto* image = static_cast<Image*>(context);
  try {
    image->height = height;
    image->width = width;
    image->pixels.resize(static_cast<size_t>(height * width * 3));
    return image->pixels.data();
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

}  // namespace

Image decode_jpeg_rgb(const std::string& bytes, const DecodeLimits& limits, const std::string& what) {
  Image image;
  Job job;
  job.data = reinterpret_cast<const unsigned char*>(bytes.data());
  job.size = static_cast<unsigned long>(bytes.size());
  job.max_pixels = limits.max_pixels;
  job.allocate = allocate_image;
  job.context = &image;
  decode(job);
  if (job.outcome == Outcome::Refused && job.message[0] == '\0') check_image_size(job.width, job.height, limits, what);
  PMSDSEN_CHECK(job.outcome == Outcome::Decoded, what, ": ", job.message);
  return image;
}

}  // namespace pmsdsen::data
