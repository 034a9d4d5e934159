/* Speed of the video pieces at webcam size (640x480): reading Y4M frames
 * into gray (the detector's path) and RGB images, writing RGB frames, and
 * one tracker update with 10 faces and 7 classes.
 *
 *   ninja -C build bench/bench_video && build/bench/bench_video */
#include <stdio.h>
#include <stdlib.h>

#include "core/core_internal.h"
#include "fer.h"

#define WIDTH 640
#define HEIGHT 480
#define FRAMES 300

static double read_all(FILE *f, unsigned flags) {
  rewind(f);
  fer_y4m_reader *r = NULL;
  if (fer_y4m_reader_from_file(f, &r) != FER_OK) exit(1);
  int got = 0, frames = 0;
  double start = fer__now_seconds();
  while (fer_y4m_reader_next(r, &got) == FER_OK && got) {
    fer_image *img = NULL;
    if (fer_y4m_reader_image(r, flags, &img) != FER_OK) exit(1);
    fer_image_free(img);
    frames++;
  }
  double seconds = fer__now_seconds() - start;
  fer_y4m_reader_free(r);
  return seconds / frames;
}

int main(void) {
  fer_image *img = NULL;
  if (fer_image_create(WIDTH, HEIGHT, 3, &img) != FER_OK) return 1;
  uint8_t *p = fer_image_data_mutable(img);
  for (size_t i = 0; i < (size_t)WIDTH * HEIGHT * 3; i++) p[i] = (uint8_t)(i * 7 + i / WIDTH);

  FILE *f = tmpfile();
  fer_y4m_writer *w = NULL;
  if (!f || fer_y4m_writer_from_file(f, WIDTH, HEIGHT, 0, &w) != FER_OK) return 1;
  double start = fer__now_seconds();
  for (int i = 0; i < FRAMES; i++)
    if (fer_y4m_writer_write(w, img) != FER_OK) return 1;
  double write_seconds = (fer__now_seconds() - start) / FRAMES;
  if (fer_y4m_writer_close(w) != FER_OK) return 1;

  printf("y4m %dx%d read -> gray  %.2f ms/frame\n", WIDTH, HEIGHT,
         1e3 * read_all(f, FER_Y4M_READ_GRAY));
  printf("y4m %dx%d read -> RGB   %.2f ms/frame\n", WIDTH, HEIGHT, 1e3 * read_all(f, 0));
  printf("y4m %dx%d RGB -> write  %.2f ms/frame\n", WIDTH, HEIGHT, 1e3 * write_seconds);

  fer_tracker *t = NULL;
  if (fer_tracker_create(7, &t) != FER_OK) return 1;
  fer_rect boxes[10];
  float probs[70] = {0}, smoothed[70];
  int32_t ids[10];
  int top[10];
  for (int i = 0; i < 10; i++) boxes[i] = (fer_rect){i * 60, 0, 50, 50};
  const int updates = 100000;
  start = fer__now_seconds();
  for (int k = 0; k < updates; k++) {
    for (int i = 0; i < 10; i++) boxes[i].x += (k & 1) ? 1 : -1;
    if (fer_tracker_update(t, boxes, probs, 10, ids, smoothed, top, NULL) != FER_OK) return 1;
  }
  printf("tracker update, 10 faces x 7 classes  %.2f us\n",
         1e6 * (fer__now_seconds() - start) / updates);
  fer_tracker_free(t);
  fer_image_free(img);
  fclose(f);
  return 0;
}
