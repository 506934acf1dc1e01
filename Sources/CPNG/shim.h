#ifndef PRUNEBENCH_CPNG_SHIM_H
#define PRUNEBENCH_CPNG_SHIM_H
// libpng reports errors by longjmp; Swift cannot take part in that, so decoding and encoding run
// here, in C, each under one setjmp.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <png.h>

/// What pb_png_decode reports. On success `pixels` (malloc'd) holds `height` rows of `width`
/// pixels: 3 bytes (RGB) each, or, when `gray16` is set, one big-endian 16-bit gray sample each
/// (the caller applies Pillow's clip). On failure `pixels` is NULL and `message` says why.
typedef struct {
    unsigned char *pixels;
    int width, height;
    int gray16;
    int too_large;
    int color_type, bit_depth, interlaced;
    char message[256];
} pb_png_result;

typedef struct {
    const unsigned char *data;
    size_t size, offset;
    char *message;
} pb_png_reader;

static void pb_png_read(png_structp png, png_bytep out, png_size_t length) {
    pb_png_reader *r = (pb_png_reader *)png_get_io_ptr(png);
    if (length > r->size - r->offset) png_error(png, "file is truncated");
    memcpy(out, r->data + r->offset, length);
    r->offset += length;
}

static void pb_png_error(png_structp png, png_const_charp text) {
    pb_png_reader *r = (pb_png_reader *)png_get_error_ptr(png);
    snprintf(r->message, 256, "%s", text);
    png_longjmp(png, 1);
}

static void pb_png_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

/// Decodes a whole PNG held in memory the way Pillow's `convert("RGB")` sees it: palette looked
/// up (tRNS ignored), low bit depths expanded, 16-bit samples reduced to their high byte, alpha
/// dropped without compositing, gray replicated, interlacing undone; no gamma or colour
/// management. 16-bit gray without alpha is returned as is (`gray16`). CRC errors in critical
/// chunks are not checked here (Pillow does not check IDAT's; the caller checks the others).
static inline void pb_png_decode(const unsigned char *data, size_t size, unsigned long max_pixels,
                                 pb_png_result *result) {
    pb_png_reader reader = { data, size, 0, result->message };
    png_structp png = NULL;
    png_infop info = NULL;
    unsigned char *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    memset(result, 0, sizeof(*result));
    reader.message = result->message;
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, pb_png_error, pb_png_warning);
    if (png == NULL) { snprintf(result->message, 256, "out of memory"); return; }
    info = png_create_info_struct(png);
    if (info == NULL) { png_destroy_read_struct(&png, NULL, NULL); snprintf(result->message, 256, "out of memory"); return; }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(rows);
        result->pixels = NULL;
        return;
    }
    png_set_read_fn(png, &reader, pb_png_read);
    png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    int color_type = png_get_color_type(png, info), bit_depth = png_get_bit_depth(png, info);
    result->color_type = color_type;
    result->bit_depth = bit_depth;
    result->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    if ((unsigned long)width * (unsigned long)height > max_pixels) {
        result->width = (int)width;
        result->height = (int)height;
        result->too_large = 1;
        png_destroy_read_struct(&png, &info, NULL);
        return;
    }
    int gray16 = color_type == PNG_COLOR_TYPE_GRAY && bit_depth == 16;
    if (!gray16) {
        if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
        if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
        if (bit_depth == 16) png_set_strip_16(png);
        if ((color_type & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
        if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t stride = png_get_rowbytes(png, info);
    size_t expected = (size_t)width * (gray16 ? 2 : 3);
    if (stride != expected) {
        snprintf(result->message, 256, "unexpected row size %zu after conversion (expected %zu)", stride, expected);
        png_destroy_read_struct(&png, &info, NULL);
        return;
    }
    pixels = (unsigned char *)malloc(stride * height + 1);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * (height + 1));
    if (pixels == NULL || rows == NULL) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + stride * y;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    result->width = (int)width;
    result->height = (int)height;
    result->gray16 = gray16;
    result->pixels = pixels;
}

/// A growing memory buffer for pb_png_encode_rgb.
typedef struct {
    unsigned char *data;
    size_t size, capacity;
    int failed;
} pb_png_buffer;

static void pb_png_write(png_structp png, png_bytep in, png_size_t length) {
    pb_png_buffer *b = (pb_png_buffer *)png_get_io_ptr(png);
    if (b->size + length > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 4096;
        while (capacity < b->size + length) capacity *= 2;
        unsigned char *grown = (unsigned char *)realloc(b->data, capacity);
        if (grown == NULL) { b->failed = 1; png_error(png, "out of memory"); }
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->size, in, length);
    b->size += length;
}

static void pb_png_flush(png_structp png) { (void)png; }

/// Encodes 8-bit RGB rows as a PNG. Returns the malloc'd bytes (free them) or NULL with `message`.
static inline unsigned char *pb_png_encode_rgb(const unsigned char *rgb, int width, int height,
                                               size_t *out_size, char message[256]) {
    pb_png_reader errors = { NULL, 0, 0, message };
    pb_png_buffer buffer = { NULL, 0, 0, 0 };
    pb_png_buffer *volatile out = &buffer;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &errors, pb_png_error, pb_png_warning);
    if (png == NULL) { snprintf(message, 256, "out of memory"); return NULL; }
    png_infop info = png_create_info_struct(png);
    if (info == NULL || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(out->data);
        return NULL;
    }
    png_set_write_fn(png, &buffer, pb_png_write, pb_png_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(rgb + (size_t)y * (size_t)width * 3));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    *out_size = buffer.size;
    return buffer.data;
}

#endif
