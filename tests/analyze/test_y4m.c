/* The Y4M reader and writer against fixtures written by
 * tests/fixtures/video/make_fixtures.py (OpenCV and numpy references), round
 * trips, pipes, and broken streams cut or corrupted at every byte. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "core/core_internal.h"
#include "harness.h"

static uint8_t *read_fixture(const char *name, size_t *size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/video/%s", harness_fixtures(), name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open fixture %s\n", path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  uint8_t *data = malloc((size_t)n + 1);
  if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) exit(1);
  fclose(f);
  *size = (size_t)n;
  return data;
}

/* A read-only stream over bytes, as a pipe or file would give them. */
static FILE *stream_of(const void *data, size_t size) {
  FILE *f = tmpfile();
  if (!f) exit(1);
  if (size) fwrite(data, 1, size, f);
  rewind(f);
  return f;
}

static int max_abs_diff(const uint8_t *a, const uint8_t *b, size_t n) {
  int worst = 0;
  for (size_t i = 0; i < n; i++) worst = FER__MAX(worst, abs((int)a[i] - (int)b[i]));
  return worst;
}

/* Reads every frame of a fixture and compares each with `ref_name`. */
static void compare_fixture(const char *name, const char *ref_name, unsigned flags,
                            int channels, int want_frames, int tolerance) {
  size_t ref_size;
  uint8_t *ref = read_fixture(ref_name, &ref_size);
  char path[4096];
  snprintf(path, sizeof path, "%s/video/%s", harness_fixtures(), name);
  fer_y4m_reader *r = NULL;
  CHECK_OK(fer_y4m_reader_open(path, &r));
  if (!r) return;
  size_t frame_bytes = (size_t)fer_y4m_reader_width(r) *
                       (size_t)fer_y4m_reader_height(r) * (size_t)channels;
  CHECK_EQ_INT(ref_size, frame_bytes * (size_t)want_frames);
  int got = 0, frames = 0;
  while (fer_y4m_reader_next(r, &got) == FER_OK && got) {
    fer_image *img = NULL;
    CHECK_OK(fer_y4m_reader_image(r, flags, &img));
    if (img && (size_t)(frames + 1) * frame_bytes <= ref_size) {
      CHECK_EQ_INT(fer_image_channels(img), channels);
      int worst = max_abs_diff(fer_image_data(img), ref + (size_t)frames * frame_bytes,
                               frame_bytes);
      CHECK_MSG(worst <= tolerance, "%s frame %d differs by %d (allowed %d)", name,
                frames, worst, tolerance);
    }
    fer_image_free(img);
    frames++;
  }
  CHECK_EQ_INT(frames, want_frames);
  CHECK_EQ_INT(fer_y4m_reader_frame_count(r), want_frames);
  /* The end is sticky and still not an error. */
  CHECK_OK(fer_y4m_reader_next(r, &got));
  CHECK_EQ_INT(got, 0);
  fer_y4m_reader_free(r);
  free(ref);
}

static void test_even_frames_match_opencv(void) {
  compare_fixture("rand_20x14.y4m", "rand_20x14.rgb", 0, 3, 2, 1);
  fer_y4m_reader *r = NULL;
  char path[4096];
  snprintf(path, sizeof path, "%s/video/rand_20x14.y4m", harness_fixtures());
  CHECK_OK(fer_y4m_reader_open(path, &r));
  int num = -1, den = -1;
  CHECK_OK(fer_y4m_reader_frame_rate(r, &num, &den));
  CHECK(num == 30000 && den == 1001);
  CHECK_OK(fer_y4m_reader_aspect(r, &num, &den));
  CHECK(num == 1 && den == 1);
  CHECK_EQ_INT(fer_y4m_reader_width(r), 20);
  CHECK_EQ_INT(fer_y4m_reader_height(r), 14);
  CHECK_EQ_INT(fer_y4m_reader_colorspace(r), FER_Y4M_420JPEG);
  CHECK_EQ_INT(fer_y4m_reader_interlace(r), FER_Y4M_INTERLACE_PROGRESSIVE);
  fer_y4m_reader_free(r);
}

static void test_odd_paldv_with_odd_tags(void) {
  compare_fixture("odd_15x9.y4m", "odd_15x9.rgb", 0, 3, 2, 1);
  size_t size;
  uint8_t *data = read_fixture("odd_15x9.y4m", &size);
  FILE *f = stream_of(data, size);
  fer_y4m_reader *r = NULL;
  CHECK_OK(fer_y4m_reader_from_file(f, &r));
  int num = 0, den = 0, got = 0;
  CHECK_OK(fer_y4m_reader_aspect(r, &num, &den));
  CHECK(num == 128 && den == 117);
  CHECK_OK(fer_y4m_reader_frame_rate(r, &num, &den));
  CHECK(num == 25 && den == 1);
  CHECK_EQ_INT(fer_y4m_reader_colorspace(r), FER_Y4M_420PALDV);
  CHECK_EQ_INT(fer_y4m_reader_interlace(r), FER_Y4M_INTERLACE_TOP_FIRST);
  const uint8_t *planes[3];
  size_t strides[3];
  CHECK_STATUS(fer_y4m_reader_planes(r, planes, strides), FER_ERR_MISUSE);
  CHECK_OK(fer_y4m_reader_next(r, &got));
  CHECK_OK(fer_y4m_reader_planes(r, planes, strides));
  CHECK(strides[0] == 15 && strides[1] == 8 && strides[2] == 8);
  /* The planes are the bytes after "FRAME ...\n", in order. */
  const uint8_t *first = (const uint8_t *)strstr((const char *)data, "XFOO=bar\n") + 9;
  CHECK(memcmp(planes[0], first, 135) == 0);
  CHECK(memcmp(planes[1], first + 135, 40) == 0);
  CHECK(memcmp(planes[2], first + 175, 40) == 0);
  fer_y4m_reader_free(r);
  /* The reader never closes the caller's stream: it is still usable. */
  CHECK(ftell(f) > 0);
  CHECK_EQ_INT(fclose(f), 0);
  free(data);
}

static void test_mono(void) {
  compare_fixture("mono_11x7.y4m", "mono_11x7.gray", FER_Y4M_READ_GRAY, 1, 3, 0);
  size_t size, ref_size;
  uint8_t *data = read_fixture("mono_11x7.y4m", &size);
  uint8_t *ref = read_fixture("mono_11x7.gray", &ref_size);
  FILE *f = stream_of(data, size);
  fer_y4m_reader *r = NULL;
  int got = 0, num = -1, den = -1;
  CHECK_OK(fer_y4m_reader_from_file(f, &r));
  CHECK_EQ_INT(fer_y4m_reader_colorspace(r), FER_Y4M_MONO);
  CHECK_OK(fer_y4m_reader_frame_rate(r, &num, &den));
  CHECK(num == 0 && den == 0);
  CHECK_OK(fer_y4m_reader_aspect(r, &num, &den));
  CHECK(num == 0 && den == 0);
  CHECK_OK(fer_y4m_reader_next(r, &got));
  const uint8_t *planes[3];
  size_t strides[3];
  CHECK_OK(fer_y4m_reader_planes(r, planes, strides));
  CHECK(planes[1] == NULL && planes[2] == NULL && strides[1] == 0);
  /* Colour from a mono stream: the gray value in all three channels. */
  fer_image *rgb = NULL;
  CHECK_OK(fer_y4m_reader_image(r, 0, &rgb));
  if (rgb) {
    CHECK_EQ_INT(fer_image_channels(rgb), 3);
    int bad = 0;
    for (int i = 0; i < 77; i++)
      for (int c = 0; c < 3; c++) bad += fer_image_data(rgb)[3 * i + c] != ref[i];
    CHECK_EQ_INT(bad, 0);
  }
  fer_image_free(rgb);
  fer_y4m_reader_free(r);
  fclose(f);
  free(data);
  free(ref);
}

/* The cheap gray path agrees with BT.601 luma of the RGB frame, wherever no
 * channel was clipped (the test computes the luma itself). */
static void test_gray_path_matches_rgb_luma(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/video/rand_20x14.y4m", harness_fixtures());
  fer_y4m_reader *r = NULL;
  int got = 0;
  CHECK_OK(fer_y4m_reader_open(path, &r));
  CHECK_OK(fer_y4m_reader_next(r, &got));
  fer_image *rgb = NULL, *gray = NULL;
  CHECK_OK(fer_y4m_reader_image(r, 0, &rgb));
  CHECK_OK(fer_y4m_reader_image(r, FER_Y4M_READ_GRAY, &gray));
  if (rgb && gray) {
    int compared = 0, worst = 0;
    for (int i = 0; i < 20 * 14; i++) {
      const uint8_t *p = fer_image_data(rgb) + 3 * i;
      if (p[0] == 0 || p[0] == 255 || p[1] == 0 || p[1] == 255 || p[2] == 0 ||
          p[2] == 255)
        continue;
      double luma = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
      worst = FER__MAX(worst, (int)ceil(fabs(luma - fer_image_data(gray)[i])));
      compared++;
    }
    CHECK(compared > 20);
    CHECK_MSG(worst <= 1, "gray differs from luma by %d", worst);
  }
  fer_image_free(rgb);
  fer_image_free(gray);
  fer_y4m_reader_free(r);
}

static void test_writer_matches_numpy(void) {
  size_t in_size, want_size;
  uint8_t *in = read_fixture("writer_in_13x11.rgb", &in_size);
  uint8_t *want = read_fixture("writer_out_13x11.y4m", &want_size);
  fer_image *img = NULL;
  CHECK_OK(fer_image_create(13, 11, 3, &img));
  memcpy(fer_image_data_mutable(img), in, in_size);
  FILE *f = tmpfile();
  fer_y4m_writer *w = NULL;
  CHECK_OK(fer_y4m_writer_from_file(f, 13, 11, 0, &w));
  CHECK_OK(fer_y4m_writer_write(w, img));
  CHECK_OK(fer_y4m_writer_close(w));
  long size = ftell(f);
  CHECK_EQ_INT(size, (long)want_size);
  uint8_t *got = calloc(want_size, 1);
  rewind(f);
  CHECK_EQ_INT(fread(got, 1, want_size, f), want_size);
  size_t text = strlen("YUV4MPEG2 W13 H11 F25:1 Ip A1:1 C420jpeg\nFRAME\n");
  CHECK(memcmp(got, want, text) == 0);
  int worst = max_abs_diff(got + text, want + text, want_size - text);
  CHECK_MSG(worst <= 1, "I420 differs from numpy by %d", worst);
  free(got);
  fclose(f); /* still open: the writer did not close it */
  fer_image_free(img);
  free(in);
  free(want);
}

/* RGB with uniform 2x2 blocks survives I420 with a small error: luma and
 * chroma are each rounded once to 8 bits, and 2.017 * 0.5 + 1.164 * 0.5
 * plus the final rounding stays under 3. */
static void round_trip(int width, int height, unsigned write_flags) {
  fer__rng rng;
  fer__rng_seed(&rng, (uint64_t)(width * 1000 + height));
  int channels = (write_flags & FER_Y4M_WRITE_MONO) ? 1 : 3;
  fer_image *frames[3] = {NULL, NULL, NULL};
  char path[64];
  snprintf(path, sizeof path, "round_trip_%dx%d_%u.y4m", width, height, write_flags);
  fer_y4m_writer *w = NULL;
  CHECK_OK(fer_y4m_writer_open(path, width, height, write_flags, &w));
  CHECK_OK(fer_y4m_writer_set_frame_rate(w, 30000, 1001));
  CHECK_OK(fer_y4m_writer_set_aspect(w, 4, 3));
  for (int k = 0; k < 3; k++) {
    CHECK_OK(fer_image_create(width, height, channels, &frames[k]));
    uint8_t *px = fer_image_data_mutable(frames[k]);
    for (int by = 0; by < height; by += 2)
      for (int bx = 0; bx < width; bx += 2)
        for (int c = 0; c < channels; c++) {
          uint8_t v = (uint8_t)fer__rng_below(&rng, 256);
          for (int y = by; y < FER__MIN(by + 2, height); y++)
            for (int x = bx; x < FER__MIN(bx + 2, width); x++)
              px[((size_t)y * (size_t)width + (size_t)x) * (size_t)channels + (size_t)c] = v;
        }
    CHECK_OK(fer_y4m_writer_write(w, frames[k]));
  }
  CHECK_STATUS(fer_y4m_writer_set_frame_rate(w, 25, 1), FER_ERR_MISUSE);
  CHECK_OK(fer_y4m_writer_close(w));

  fer_y4m_reader *r = NULL;
  CHECK_OK(fer_y4m_reader_open(path, &r));
  int num = 0, den = 0, got = 0;
  CHECK_OK(fer_y4m_reader_frame_rate(r, &num, &den));
  CHECK(num == 30000 && den == 1001);
  CHECK_OK(fer_y4m_reader_aspect(r, &num, &den));
  CHECK(num == 4 && den == 3);
  CHECK_EQ_INT(fer_y4m_reader_colorspace(r),
               channels == 1 ? FER_Y4M_MONO : FER_Y4M_420JPEG);
  for (int k = 0; k < 3; k++) {
    CHECK_OK(fer_y4m_reader_next(r, &got));
    CHECK_EQ_INT(got, 1);
    fer_image *back = NULL;
    CHECK_OK(fer_y4m_reader_image(r, channels == 1 ? FER_Y4M_READ_GRAY : 0, &back));
    if (back && frames[k]) {
      int worst = max_abs_diff(fer_image_data(back), fer_image_data(frames[k]),
                               (size_t)width * (size_t)height * (size_t)channels);
      CHECK_MSG(worst <= (channels == 1 ? 1 : 3), "%dx%d frame %d: off by %d",
                width, height, k, worst);
    }
    fer_image_free(back);
    fer_image_free(frames[k]);
  }
  CHECK_OK(fer_y4m_reader_next(r, &got));
  CHECK_EQ_INT(got, 0);
  fer_y4m_reader_free(r);
  remove(path);
}

static void test_round_trips(void) {
  round_trip(16, 10, 0);
  round_trip(7, 5, 0);
  round_trip(1, 1, 0);
  round_trip(1, 6, 0);
  round_trip(9, 1, 0);
  round_trip(16, 10, FER_Y4M_WRITE_MONO);
  round_trip(5, 3, FER_Y4M_WRITE_MONO);
}

/* Gray into a colour stream: neutral chroma; colour into mono: its luma. */
static void test_writer_mixed_channels(void) {
  fer_image *gray = NULL, *rgb = NULL;
  CHECK_OK(fer_image_create(4, 2, 1, &gray));
  CHECK_OK(fer_image_create(4, 2, 3, &rgb));
  for (int i = 0; i < 8; i++) {
    fer_image_data_mutable(gray)[i] = (uint8_t)(i * 36);
    for (int c = 0; c < 3; c++) fer_image_data_mutable(rgb)[3 * i + c] = (uint8_t)(i * 36);
  }
  FILE *f = tmpfile();
  fer_y4m_writer *w = NULL;
  CHECK_OK(fer_y4m_writer_from_file(f, 4, 2, 0, &w));
  CHECK_OK(fer_y4m_writer_write(w, gray));
  CHECK_OK(fer_y4m_writer_close(w));
  rewind(f);
  fer_y4m_reader *r = NULL;
  int got = 0;
  CHECK_OK(fer_y4m_reader_from_file(f, &r));
  CHECK_OK(fer_y4m_reader_next(r, &got));
  const uint8_t *planes[3];
  size_t strides[3];
  CHECK_OK(fer_y4m_reader_planes(r, planes, strides));
  CHECK(planes[1][0] == 128 && planes[1][1] == 128 && planes[2][0] == 128 &&
        planes[2][1] == 128);
  for (int i = 0; i < 8; i++)
    CHECK_EQ_INT(planes[0][i], (int)floor(16 + i * 36 * 219.0 / 255.0 + 0.5));
  fer_y4m_reader_free(r);
  fclose(f);

  f = tmpfile();
  CHECK_OK(fer_y4m_writer_from_file(f, 4, 2, FER_Y4M_WRITE_MONO, &w));
  CHECK_OK(fer_y4m_writer_write(w, rgb));
  CHECK_OK(fer_y4m_writer_close(w));
  CHECK_EQ_INT(ftell(f), (long)strlen("YUV4MPEG2 W4 H2 F25:1 Ip A1:1 Cmono\nFRAME\n") + 8);
  rewind(f);
  CHECK_OK(fer_y4m_reader_from_file(f, &r));
  CHECK_OK(fer_y4m_reader_next(r, &got));
  CHECK_OK(fer_y4m_reader_planes(r, planes, strides));
  for (int i = 0; i < 8; i++)
    CHECK_MSG(abs(planes[0][i] - (int)floor(16 + i * 36 * 219.0 / 255.0 + 0.5)) <= 1,
              "luma %d = %d", i, planes[0][i]);
  fer_y4m_reader_free(r);
  fclose(f);
  fer_image_free(gray);
  fer_image_free(rgb);
}

/* A stream with no frames is a header and nothing else. */
static void test_empty_stream(void) {
  FILE *f = tmpfile();
  fer_y4m_writer *w = NULL;
  CHECK_OK(fer_y4m_writer_from_file(f, 6, 4, 0, &w));
  CHECK_OK(fer_y4m_writer_close(w));
  CHECK_EQ_INT(ftell(f), (long)strlen("YUV4MPEG2 W6 H4 F25:1 Ip A1:1 C420jpeg\n"));
  rewind(f);
  fer_y4m_reader *r = NULL;
  int got = 1;
  CHECK_OK(fer_y4m_reader_from_file(f, &r));
  CHECK_OK(fer_y4m_reader_next(r, &got));
  CHECK_EQ_INT(got, 0);
  fer_image *img = NULL;
  CHECK_STATUS(fer_y4m_reader_image(r, 0, &img), FER_ERR_MISUSE);
  fer_y4m_reader_free(r);
  fclose(f);
}

/* "-" means standard input and output, which stay open afterwards. */
static void test_standard_streams(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/video/mono_11x7.y4m", harness_fixtures());
  int saved_in = dup(0), saved_out = dup(1);
  CHECK(freopen(path, "rb", stdin) != NULL);
  fer_y4m_reader *r = NULL;
  int got = 0, frames = 0;
  CHECK_OK(fer_y4m_reader_open("-", &r));
  while (fer_y4m_reader_next(r, &got) == FER_OK && got) frames++;
  CHECK_EQ_INT(frames, 3);
  fer_y4m_reader_free(r);
  CHECK(feof(stdin) && fileno(stdin) == 0); /* not closed */

  fflush(stdout);
  CHECK(freopen("stdout_test.y4m", "wb", stdout) != NULL);
  fer_y4m_writer *w = NULL;
  fer_image *img = NULL;
  CHECK_OK(fer_image_create(3, 2, 1, &img));
  CHECK_OK(fer_y4m_writer_open("-", 3, 2, FER_Y4M_WRITE_MONO, &w));
  CHECK_OK(fer_y4m_writer_write(w, img));
  CHECK_OK(fer_y4m_writer_close(w));
  CHECK(fputs("still open\n", stdout) != EOF && fflush(stdout) == 0);
  fer_image_free(img);
  /* Put the real streams back. */
  dup2(saved_in, 0);
  dup2(saved_out, 1);
  close(saved_in);
  close(saved_out);
  clearerr(stdin);
  size_t size = 0;
  FILE *f = fopen("stdout_test.y4m", "rb");
  char text[128] = {0};
  if (f) size = fread(text, 1, sizeof text - 1, f);
  if (f) fclose(f);
  const char *want = "YUV4MPEG2 W3 H2 F25:1 Ip A1:1 Cmono\nFRAME\n";
  CHECK_EQ_INT(size, strlen(want) + 6 + strlen("still open\n"));
  CHECK(memcmp(text, want, strlen(want)) == 0);
  remove("stdout_test.y4m");
}

/* Streaming: the writer thread sends frame k+1 only after the reader has
 * taken frame k, so a reader that waited for more than one frame (or a
 * writer that did not flush) would hang; the alarm turns a hang into a
 * failure. */
typedef struct pipe_job {
  int data_fd;
  int ack_fd;
  int frames;
} pipe_job;

static void *pipe_writer(void *arg) {
  pipe_job *job = arg;
  FILE *out = fdopen(job->data_fd, "wb");
  fer_y4m_writer *w = NULL;
  fer_image *img = NULL;
  if (fer_y4m_writer_from_file(out, 6, 4, FER_Y4M_WRITE_MONO, &w) != FER_OK ||
      fer_image_create(6, 4, 1, &img) != FER_OK)
    exit(1);
  for (int k = 0; k < job->frames; k++) {
    memset(fer_image_data_mutable(img), k * 40, 24);
    if (fer_y4m_writer_write(w, img) != FER_OK) exit(1);
    char ack;
    if (read(job->ack_fd, &ack, 1) != 1) exit(1);
  }
  fer_y4m_writer_close(w);
  fer_image_free(img);
  fclose(out);
  return NULL;
}

static void test_pipe_streaming(void) {
  int data[2], ack[2];
  if (pipe(data) != 0 || pipe(ack) != 0) exit(1);
  pipe_job job = {data[1], ack[0], 4};
  alarm(20);
  pthread_t thread;
  pthread_create(&thread, NULL, pipe_writer, &job);
  FILE *in = fdopen(data[0], "rb");
  fer_y4m_reader *r = NULL;
  CHECK_OK(fer_y4m_reader_from_file(in, &r));
  int got = 0, frames = 0;
  while (fer_y4m_reader_next(r, &got) == FER_OK && got) {
    fer_image *img = NULL;
    CHECK_OK(fer_y4m_reader_image(r, FER_Y4M_READ_GRAY, &img));
    if (img) CHECK_MSG(abs(fer_image_data(img)[23] - frames * 40) <= 1, "frame %d", frames);
    fer_image_free(img);
    frames++;
    if (write(ack[1], "k", 1) != 1) exit(1);
  }
  CHECK_EQ_INT(frames, 4);
  pthread_join(thread, NULL);
  alarm(0);
  fer_y4m_reader_free(r);
  fclose(in);
  close(ack[0]);
  close(ack[1]);
}

/* Reads a whole stream; returns the status that stopped it and the frames. */
static fer_status read_all(const uint8_t *data, size_t size, int *frames) {
  FILE *f = stream_of(data, size);
  fer_y4m_reader *r = NULL;
  *frames = 0;
  fer_status st = fer_y4m_reader_from_file(f, &r);
  int got = 1;
  while (st == FER_OK && got) {
    st = fer_y4m_reader_next(r, &got);
    if (st == FER_OK && got) {
      fer_image *img = NULL;
      fer_status ist = fer_y4m_reader_image(r, (unsigned)*frames & 1u, &img);
      if (ist != FER_OK) st = ist;
      fer_image_free(img);
      ++*frames;
    }
  }
  fer_y4m_reader_free(r);
  fclose(f);
  return st;
}

/* The fixture cut at every length: ends at the header or a frame boundary
 * are clean, every other cut is FER_ERR_TRUNCATED naming the frame. */
static void test_truncated_at_every_byte(void) {
  size_t size;
  uint8_t *data = read_fixture("odd_15x9.y4m", &size);
  const char *text = (const char *)data;
  size_t header_end = (size_t)(strchr(text, '\n') - text) + 1;
  size_t frame0_data = header_end + strlen("FRAME Ip XFOO=bar\n");
  size_t frame_bytes = 15 * 9 + 2 * 8 * 5;
  size_t frame1_line = frame0_data + frame_bytes;
  size_t frame1_data = frame1_line + strlen("FRAME\n");
  CHECK_EQ_INT(frame1_data + frame_bytes, size);
  for (size_t len = 0; len <= size; len++) {
    int frames = -1;
    fer_status st = read_all(data, len, &frames);
    fer_status want;
    int want_frames;
    if (len < header_end) {
      want = FER_ERR_TRUNCATED, want_frames = 0;
    } else if (len == header_end || len == frame1_line || len == size) {
      want = FER_OK, want_frames = len == header_end ? 0 : len == size ? 2 : 1;
    } else {
      want = FER_ERR_TRUNCATED, want_frames = len < frame1_line ? 0 : 1;
    }
    CHECK_MSG(st == want && frames == want_frames,
              "cut at %zu: %s after %d frames, expected %s after %d (%s)", len,
              fer_status_string(st), frames, fer_status_string(want), want_frames,
              fer_last_error());
    if (want == FER_ERR_TRUNCATED && len > header_end) {
      char frame_name[32];
      snprintf(frame_name, sizeof frame_name, "frame %d", want_frames);
      CHECK_MESSAGE_CONTAINS(frame_name);
    }
  }
  free(data);
}

/* Every byte replaced by a few telling values: never a crash, a leak or an
 * out-of-range read (the sanitizer build watches), and a known status. */
static void test_corrupt_every_byte(void) {
  size_t size;
  uint8_t *data = read_fixture("odd_15x9.y4m", &size);
  uint8_t *copy = malloc(size);
  static const uint8_t values[] = {0x00, 0xff, ' ', '\n', '9', 'W', 'C'};
  int failures = 0;
  for (size_t i = 0; i < size; i++) {
    for (size_t v = 0; v < sizeof values; v++) {
      memcpy(copy, data, size);
      copy[i] = values[v];
      int frames;
      fer_status st = read_all(copy, size, &frames);
      if (st != FER_OK && st != FER_ERR_FORMAT && st != FER_ERR_TRUNCATED &&
          st != FER_ERR_UNSUPPORTED && st != FER_ERR_TOO_LARGE)
        failures++;
      if (st != FER_OK && fer_last_error()[0] == '\0') failures++;
    }
  }
  CHECK_EQ_INT(failures, 0);
  free(copy);
  free(data);
}

static void check_header(const char *header, fer_status want, const char *needle) {
  fer_status st;
  int frames;
  st = read_all((const uint8_t *)header, strlen(header), &frames);
  CHECK_MSG(st == want, "'%.60s': %s, expected %s (%s)", header,
            fer_status_string(st), fer_status_string(want), fer_last_error());
  if (needle) CHECK_MESSAGE_CONTAINS(needle);
}

static void test_bad_headers(void) {
  check_header("", FER_ERR_TRUNCATED, "empty");
  check_header("YUV4MPEG2 W2 H2", FER_ERR_TRUNCATED, "header");
  check_header("YUV4MPEG W2 H2\n", FER_ERR_FORMAT, "YUV4MPEG2");
  check_header("\x89PNG\r\n", FER_ERR_FORMAT, "not a Y4M");
  check_header("YUV4MPEG2 H2\n", FER_ERR_FORMAT, "W (width)");
  check_header("YUV4MPEG2 W2\n", FER_ERR_FORMAT, "H (height)");
  check_header("YUV4MPEG2 W2 H2 C422\n", FER_ERR_UNSUPPORTED, "C422");
  check_header("YUV4MPEG2 W2 H2 C420p10\n", FER_ERR_UNSUPPORTED, "420p10");
  check_header("YUV4MPEG2 W2 H2 Fx\n", FER_ERR_FORMAT, "frame rate");
  check_header("YUV4MPEG2 W2 H2 F30:0\n", FER_ERR_FORMAT, "F30:0");
  check_header("YUV4MPEG2 W2 H2 A1\n", FER_ERR_FORMAT, "aspect");
  check_header("YUV4MPEG2 W2 H2 Ix\n", FER_ERR_FORMAT, "interlace");
  check_header("YUV4MPEG2 W-3 H2\n", FER_ERR_FORMAT, "W-3");
  check_header("YUV4MPEG2 W0 H2\n", FER_ERR_FORMAT, "empty");
  check_header("YUV4MPEG2 W40000 H2\n", FER_ERR_TOO_LARGE, "40000");
  check_header("YUV4MPEG2 W8193 H8193\n", FER_ERR_TOO_LARGE, "limit");
  check_header("YUV4MPEG2 W99999999999 H2\n", FER_ERR_TOO_LARGE, "W99999999999");
  check_header("YUV4MPEG2 W2 H2\nFRAMX\n", FER_ERR_FORMAT, "FRAME");
  check_header("YUV4MPEG2 W2 H2\nFRAMES\n", FER_ERR_FORMAT, "frame 0");
  check_header("YUV4MPEG2 W2 H2\nFRA", FER_ERR_TRUNCATED, "FRAME line");
  /* Absurd but legal: a 2^26-pixel frame announced, 3 bytes sent. */
  check_header("YUV4MPEG2 W8192 H8192 Cmono\nFRAME\nabc", FER_ERR_TRUNCATED,
               "3 of its 67108864 bytes");
  /* Tags in any order, extra spaces, no C tag (= 420jpeg), X tags. */
  check_header("YUV4MPEG2  XA=1 H2  W2 \nFRAME\n123456", FER_OK, NULL);
  char *long_header = malloc(5000);
  memset(long_header, 'X', 4999);
  memcpy(long_header, "YUV4MPEG2 W2 H2 ", 16);
  long_header[4999] = '\0';
  check_header(long_header, FER_ERR_FORMAT, "end of line");
  memcpy(long_header, "YUV4MPEG2 W2 H2\nFRAME ", 22);
  check_header(long_header, FER_ERR_FORMAT, "end of the FRAME line");
  free(long_header);
}

/* Every allocation failing in turn: an error status, never a crash or a
 * leak (the sanitizer build checks leaks). */
static void test_allocation_failures(void) {
  size_t size;
  uint8_t *data = read_fixture("rand_20x14.y4m", &size);
  int saw_oom = 0, saw_ok = 0;
  for (long n = 1; n < 20; n++) {
    fer__alloc_fail_after(n);
    int frames;
    fer_status st = read_all(data, size, &frames);
    fer__alloc_fail_after(0);
    CHECK_MSG(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY, "n=%ld: %s", n,
              fer_status_string(st));
    saw_oom |= st == FER_ERR_OUT_OF_MEMORY;
    saw_ok |= st == FER_OK;
  }
  CHECK(saw_oom && saw_ok);
  free(data);
}

static void test_misuse(void) {
  fer_y4m_reader *r = (fer_y4m_reader *)1;
  fer_y4m_writer *w = (fer_y4m_writer *)1;
  int got;
  CHECK_STATUS(fer_y4m_reader_open(NULL, &r), FER_ERR_INVALID_ARGUMENT);
  CHECK(r == NULL);
  CHECK_STATUS(fer_y4m_reader_open("no/such/dir/x.y4m", &r), FER_ERR_IO);
  CHECK_MESSAGE_CONTAINS("no/such/dir/x.y4m");
  CHECK_STATUS(fer_y4m_reader_from_file(NULL, &r), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_y4m_reader_next(NULL, &got), FER_ERR_MISUSE);
  CHECK_EQ_INT(fer_y4m_reader_width(NULL), 0);
  fer_y4m_reader_free(NULL);
  CHECK_STATUS(fer_y4m_writer_open("no/such/dir/x.y4m", 4, 4, 0, &w), FER_ERR_IO);
  CHECK(w == NULL);
  CHECK_STATUS(fer_y4m_writer_open("x.y4m", 0, 4, 0, &w), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_y4m_writer_open("x.y4m", 4, 4, 8u, &w), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_y4m_writer_open("x.y4m", 40000, 4, 0, &w), FER_ERR_TOO_LARGE);
  FILE *probe = fopen("x.y4m", "rb");
  CHECK_MSG(probe == NULL, "a refused open left a file behind");
  if (probe) fclose(probe);
  CHECK_OK(fer_y4m_writer_close(NULL));

  FILE *f = tmpfile();
  fer_image *img = NULL;
  CHECK_OK(fer_image_create(5, 4, 3, &img));
  CHECK_OK(fer_y4m_writer_from_file(f, 4, 4, 0, &w));
  CHECK_STATUS(fer_y4m_writer_set_frame_rate(w, 0, 1), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_y4m_writer_set_aspect(w, -1, 1), FER_ERR_INVALID_ARGUMENT);
  CHECK_OK(fer_y4m_writer_set_aspect(w, 0, 0));
  CHECK_STATUS(fer_y4m_writer_write(w, img), FER_ERR_SHAPE);
  CHECK_MESSAGE_CONTAINS("5x4");
  CHECK_STATUS(fer_y4m_writer_write(w, NULL), FER_ERR_MISUSE);
  CHECK_OK(fer_y4m_writer_close(w));
  fclose(f);
  fer_image_free(img);

  /* A write error (a read-only stream) is reported and sticks. */
  f = fopen("/dev/null", "rb");
  if (f) {
    CHECK_OK(fer_image_create(4, 4, 3, &img));
    CHECK_OK(fer_y4m_writer_from_file(f, 4, 4, 0, &w));
    CHECK_STATUS(fer_y4m_writer_write(w, img), FER_ERR_IO);
    CHECK_STATUS(fer_y4m_writer_write(w, img), FER_ERR_IO);
    CHECK_STATUS(fer_y4m_writer_close(w), FER_ERR_IO);
    fclose(f);
    fer_image_free(img);
  }
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  RUN(test_even_frames_match_opencv);
  RUN(test_odd_paldv_with_odd_tags);
  RUN(test_mono);
  RUN(test_gray_path_matches_rgb_luma);
  RUN(test_writer_matches_numpy);
  RUN(test_round_trips);
  RUN(test_writer_mixed_channels);
  RUN(test_empty_stream);
  RUN(test_standard_streams);
  RUN(test_pipe_streaming);
  RUN(test_truncated_at_every_byte);
  RUN(test_corrupt_every_byte);
  RUN(test_bad_headers);
  RUN(test_allocation_failures);
  RUN(test_misuse);
  return harness_finish();
}
