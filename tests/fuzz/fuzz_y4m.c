/* libFuzzer harness for the Y4M reader: the input is a whole stream, read
 * from a memory stream as from a pipe. Every frame found is converted both
 * ways and written back through the writer, so the conversions and the
 * writer also see whatever sizes the reader accepts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fer.h"

/* Enough frames to reach every state; more would only cost time. */
#define MAX_FRAMES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0; /* fmemopen refuses an empty buffer */
  FILE *in = fmemopen((void *)(uintptr_t)data, size, "rb");
  if (!in) return 0;
  fer_y4m_reader *reader = NULL;
  if (fer_y4m_reader_from_file(in, &reader) == FER_OK) {
    char *written = NULL;
    size_t written_size = 0;
    FILE *out = open_memstream(&written, &written_size);
    fer_y4m_writer *writer = NULL;
    if (out)
      fer_y4m_writer_from_file(out, fer_y4m_reader_width(reader),
                               fer_y4m_reader_height(reader),
                               (unsigned)(size & 1), &writer);
    int got = 0;
    for (int frame = 0; frame < MAX_FRAMES; frame++) {
      if (fer_y4m_reader_next(reader, &got) != FER_OK || !got) break;
      const uint8_t *planes[3];
      size_t strides[3];
      fer_y4m_reader_planes(reader, planes, strides);
      fer_image *img = NULL;
      if (fer_y4m_reader_image(reader, (unsigned)frame & 1u, &img) == FER_OK)
        fer_y4m_writer_write(writer, img);
      fer_image_free(img);
    }
    fer_y4m_writer_close(writer);
    if (out) fclose(out);
    free(written);
    fer_y4m_reader_free(reader);
  }
  fclose(in);
  return 0;
}
