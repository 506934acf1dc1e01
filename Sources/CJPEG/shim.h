#ifndef PRUNEBENCH_CJPEG_SHIM_H
#define PRUNEBENCH_CJPEG_SHIM_H
// libjpeg(-turbo) reports fatal errors through a callback that must not return; Swift cannot
// longjmp, so the whole decode runs here, in C, under one setjmp.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

/// What pb_jpeg_decode reports. `pixels` (malloc'd, row-major, `components` bytes per pixel, in
/// the output colour space: 1 gray, 3 RGB, 4 CMYK as libjpeg gives it) is NULL on failure, and
/// `message` then says why.
typedef struct {
    unsigned char *pixels;
    int width, height, components;
    int truncated;
    int too_large;
    int precision;
    char message[JMSG_LENGTH_MAX];
} pb_jpeg_result;

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int truncated;
    char *message;
} pb_jpeg_error_mgr;

static void pb_jpeg_error_exit(j_common_ptr cinfo) {
    pb_jpeg_error_mgr *err = (pb_jpeg_error_mgr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void pb_jpeg_emit_message(j_common_ptr cinfo, int level) {
    pb_jpeg_error_mgr *err = (pb_jpeg_error_mgr *)cinfo->err;
    // Level -1 is a warning. The memory source reports running out of data as JWRN_JPEG_EOF and
    // then feeds a fake end-of-image marker: Pillow calls such a file truncated, and so do we.
    if (level < 0) {
        err->pub.num_warnings++;
        if (err->pub.msg_code == JWRN_JPEG_EOF) err->truncated = 1;
    }
}

/// Decodes a whole JPEG held in memory with Pillow's settings (ISLOW DCT, fancy upsampling, no
/// DCT scaling). Images with more than `max_pixels` pixels are refused before any allocation.
static inline void pb_jpeg_decode(const unsigned char *data, unsigned long size, unsigned long max_pixels,
                                  pb_jpeg_result *result) {
    struct jpeg_decompress_struct cinfo;
    pb_jpeg_error_mgr jerr;
    unsigned char *volatile pixels = NULL;
    memset(result, 0, sizeof(*result));
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = pb_jpeg_error_exit;
    jerr.pub.emit_message = pb_jpeg_emit_message;
    jerr.truncated = 0;
    jerr.message = result->message;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        result->pixels = NULL;
        result->truncated = jerr.truncated;
        return;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);
    result->precision = cinfo.data_precision;
    switch (cinfo.num_components) {
    case 1: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case 3: cinfo.out_color_space = JCS_RGB; break;
    case 4: cinfo.out_color_space = JCS_CMYK; break;
    default:
        snprintf(result->message, JMSG_LENGTH_MAX, "%d colour components (expected 1, 3 or 4)", cinfo.num_components);
        jpeg_destroy_decompress(&cinfo);
        return;
    }
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;
    cinfo.scale_num = 1;
    cinfo.scale_denom = 1;
    if ((unsigned long)cinfo.image_width * (unsigned long)cinfo.image_height > max_pixels) {
        result->width = (int)cinfo.image_width;
        result->height = (int)cinfo.image_height;
        result->too_large = 1;
        jpeg_destroy_decompress(&cinfo);
        return;
    }
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    pixels = (unsigned char *)malloc(stride * cinfo.output_height + 1);
    if (pixels == NULL) {
        snprintf(result->message, JMSG_LENGTH_MAX, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        return;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    result->width = (int)cinfo.output_width;
    result->height = (int)cinfo.output_height;
    result->components = cinfo.output_components;
    result->truncated = jerr.truncated;
    jpeg_destroy_decompress(&cinfo);
    result->pixels = pixels;
}

/// Encodes 8-bit RGB rows as a baseline JPEG of `quality` (libjpeg's defaults otherwise: 4:2:0).
/// Returns the malloc'd bytes (free them) or NULL with `message`.
static inline unsigned char *pb_jpeg_encode_rgb(const unsigned char *rgb, int width, int height, int quality,
                                                unsigned long *out_size, char message[JMSG_LENGTH_MAX]) {
    struct jpeg_compress_struct cinfo;
    pb_jpeg_error_mgr jerr;
    unsigned char *volatile buffer = NULL;
    unsigned long size = 0;
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = pb_jpeg_error_exit;
    jerr.pub.emit_message = pb_jpeg_emit_message;
    jerr.message = message;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return NULL;
    }
    jpeg_create_compress(&cinfo);
    unsigned char *mem = NULL;
    jpeg_mem_dest(&cinfo, &mem, &size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    buffer = mem;
    jpeg_destroy_compress(&cinfo);
    *out_size = size;
    return buffer;
}

#endif
