#ifndef STEADFAST_CZLIB_SHIM_H
#define STEADFAST_CZLIB_SHIM_H

#include <zlib.h>

// deflateInit2/inflateInit2 are macros Swift cannot import; wrap them.
static inline int steadfast_deflate_init_gzip(z_streamp stream, int level) {
    // windowBits 15 + 16 selects the gzip header and trailer.
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

static inline int steadfast_inflate_init_gzip(z_streamp stream) {
    // windowBits 15 + 16 accepts only gzip-wrapped streams.
    return inflateInit2(stream, 15 + 16);
}

#endif
