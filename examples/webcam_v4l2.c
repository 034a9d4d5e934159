/*
 * webcam_v4l2: grab frames from a Linux webcam with V4L2 and hand them to
 * libfer as fer_image values.
 *
 * NEEDS A CAMERA (a /dev/videoN capture device) to do anything; without one
 * it says so and exits with status 1. It uses only libc, the kernel's V4L2
 * header and libfer, and builds everywhere that header exists (CI builds it
 * without running it).
 *
 *   webcam_v4l2 [-d /dev/video0] [-n FRAMES] [-s 640x480] [-m]
 *
 *   -d DEVICE   the capture device (default /dev/video0)
 *   -n FRAMES   stop after this many frames (default: run until Ctrl-C)
 *   -s WxH      the size to ask for (the driver may pick another)
 *   -m          prefer MJPEG over YUYV
 *
 * For each frame it prints the frame size and the mean luma. Face detection
 * and expression recognition will be wired in here once they land.
 *
 * The steps are the usual V4L2 streaming dance: query the device, set a
 * format (YUYV, else MJPEG), ask for a few buffers, mmap them, queue them
 * all, start streaming, then wait for a filled buffer (poll), take it
 * (DQBUF), use it and give it back (QBUF). Ctrl-C sets a flag that ends the
 * loop, so the stream is stopped and the buffers unmapped properly.
 */
#define _DEFAULT_SOURCE /* ioctl, struct timeval in linux/videodev2.h */

#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fer.h>

#define BUFFER_COUNT 4

typedef struct mapped_buffer {
  void *start;
  size_t length;
} mapped_buffer;

typedef struct camera {
  int fd;
  int width, height;
  uint32_t pixel_format; /* V4L2_PIX_FMT_YUYV or V4L2_PIX_FMT_MJPEG */
  size_t bytes_per_line;
  mapped_buffer buffers[BUFFER_COUNT];
  int buffer_count;
  int streaming;
} camera;

static volatile sig_atomic_t stop_requested;

static void on_interrupt(int signo) {
  (void)signo;
  stop_requested = 1;
}

/* ioctl that retries when a signal interrupted it, unless that signal asked
 * us to stop. */
static int xioctl(int fd, unsigned long request, void *arg) {
  int r;
  do {
    r = ioctl(fd, request, arg);
  } while (r == -1 && errno == EINTR && !stop_requested);
  return r;
}

static int fail(const char *what) {
  fprintf(stderr, "webcam_v4l2: %s: %s\n", what, strerror(errno));
  return -1;
}

static int try_format(camera *cam, uint32_t pixel_format) {
  struct v4l2_format fmt;
  memset(&fmt, 0, sizeof fmt);
  fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  fmt.fmt.pix.width = (uint32_t)cam->width;
  fmt.fmt.pix.height = (uint32_t)cam->height;
  fmt.fmt.pix.pixelformat = pixel_format;
  fmt.fmt.pix.field = V4L2_FIELD_NONE;
  if (xioctl(cam->fd, VIDIOC_S_FMT, &fmt) == -1) return 0;
  /* The driver answers with what it will really do. */
  if (fmt.fmt.pix.pixelformat != pixel_format) return 0;
  cam->pixel_format = pixel_format;
  cam->width = (int)fmt.fmt.pix.width;
  cam->height = (int)fmt.fmt.pix.height;
  cam->bytes_per_line = fmt.fmt.pix.bytesperline ? fmt.fmt.pix.bytesperline
                                                 : (size_t)cam->width * 2;
  return 1;
}

static int camera_open(camera *cam, const char *device, int prefer_mjpeg) {
  cam->fd = open(device, O_RDWR | O_NONBLOCK);
  if (cam->fd == -1) {
    fprintf(stderr, "webcam_v4l2: cannot open %s: %s (this example needs a "
                    "camera)\n", device, strerror(errno));
    return -1;
  }
  struct v4l2_capability cap;
  memset(&cap, 0, sizeof cap);
  if (xioctl(cam->fd, VIDIOC_QUERYCAP, &cap) == -1) return fail("VIDIOC_QUERYCAP");
  uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps
                                                            : cap.capabilities;
  if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
    fprintf(stderr, "webcam_v4l2: %s cannot stream video capture\n", device);
    return -1;
  }
  uint32_t first = prefer_mjpeg ? V4L2_PIX_FMT_MJPEG : V4L2_PIX_FMT_YUYV;
  uint32_t second = prefer_mjpeg ? V4L2_PIX_FMT_YUYV : V4L2_PIX_FMT_MJPEG;
  if (!try_format(cam, first) && !try_format(cam, second)) {
    fprintf(stderr, "webcam_v4l2: %s offers neither YUYV nor MJPEG\n", device);
    return -1;
  }

  struct v4l2_requestbuffers req;
  memset(&req, 0, sizeof req);
  req.count = BUFFER_COUNT;
  req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  req.memory = V4L2_MEMORY_MMAP;
  if (xioctl(cam->fd, VIDIOC_REQBUFS, &req) == -1) return fail("VIDIOC_REQBUFS");
  if (req.count < 2) {
    fprintf(stderr, "webcam_v4l2: the driver gave only %u buffer(s)\n", req.count);
    return -1;
  }
  for (uint32_t i = 0; i < req.count && i < BUFFER_COUNT; i++) {
    struct v4l2_buffer buf;
    memset(&buf, 0, sizeof buf);
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    buf.index = i;
    if (xioctl(cam->fd, VIDIOC_QUERYBUF, &buf) == -1) return fail("VIDIOC_QUERYBUF");
    void *start = mmap(NULL, buf.length, PROT_READ | PROT_WRITE, MAP_SHARED,
                       cam->fd, buf.m.offset);
    if (start == MAP_FAILED) return fail("mmap");
    cam->buffers[i].start = start;
    cam->buffers[i].length = buf.length;
    cam->buffer_count++;
    if (xioctl(cam->fd, VIDIOC_QBUF, &buf) == -1) return fail("VIDIOC_QBUF");
  }
  enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (xioctl(cam->fd, VIDIOC_STREAMON, &type) == -1) return fail("VIDIOC_STREAMON");
  cam->streaming = 1;
  return 0;
}

static void camera_close(camera *cam) {
  if (cam->streaming) {
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    xioctl(cam->fd, VIDIOC_STREAMOFF, &type);
  }
  for (int i = 0; i < cam->buffer_count; i++)
    munmap(cam->buffers[i].start, cam->buffers[i].length);
  if (cam->fd >= 0) close(cam->fd);
}

/* YUYV (Y0 U Y1 V per pixel pair: 4:2:2) to an RGB image. libfer takes
 * 4:2:0 planes, so the luma is copied out and each chroma sample of the
 * 4:2:0 grid averages the two rows it covers; fer_image_from_yuv420() then
 * does the BT.601 conversion. `planes` is scratch of width*height*2 bytes. */
static fer_status yuyv_to_image(const camera *cam, const uint8_t *data,
                                size_t size, uint8_t *planes, fer_image **out) {
  *out = NULL;
  if (size < cam->bytes_per_line * (size_t)cam->height) {
    fprintf(stderr, "webcam_v4l2: short YUYV frame (%zu bytes)\n", size);
    return FER_ERR_TRUNCATED;
  }
  int w = cam->width, h = cam->height;
  int cw = (w + 1) / 2, ch = (h + 1) / 2;
  uint8_t *y_plane = planes, *u_plane = planes + (size_t)w * h;
  uint8_t *v_plane = u_plane + (size_t)cw * ch;
  for (int y = 0; y < h; y++) {
    const uint8_t *row = data + (size_t)y * cam->bytes_per_line;
    for (int x = 0; x < w; x++) y_plane[(size_t)y * w + x] = row[2 * x];
  }
  for (int cy = 0; cy < ch; cy++) {
    const uint8_t *top = data + (size_t)(2 * cy) * cam->bytes_per_line;
    const uint8_t *bottom = 2 * cy + 1 < h ? top + cam->bytes_per_line : top;
    for (int cx = 0; cx < cw; cx++) {
      u_plane[(size_t)cy * cw + cx] = (uint8_t)((top[4 * cx + 1] + bottom[4 * cx + 1] + 1) / 2);
      v_plane[(size_t)cy * cw + cx] = (uint8_t)((top[4 * cx + 3] + bottom[4 * cx + 3] + 1) / 2);
    }
  }
  return fer_image_from_yuv420(y_plane, (size_t)w, u_plane, (size_t)cw, v_plane,
                               (size_t)cw, w, h, FER_PIXEL_I420, out);
}

/* Mean BT.601 luma of a gray or RGB image, 0..255. */
static double mean_luma(const fer_image *img) {
  int w = fer_image_width(img), h = fer_image_height(img);
  int channels = fer_image_channels(img);
  const uint8_t *pixels = fer_image_data(img);
  double sum = 0;
  for (int y = 0; y < h; y++) {
    const uint8_t *p = pixels + (size_t)y * fer_image_stride(img);
    for (int x = 0; x < w; x++, p += channels)
      sum += channels == 1 ? p[0] : 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
  }
  return sum / ((double)w * h);
}

/* Turns one captured buffer into an image and reports on it. */
static void handle_frame(const camera *cam, long index, const uint8_t *data,
                         size_t size, uint8_t *scratch) {
  fer_image *img = NULL;
  fer_status st;
  if (cam->pixel_format == V4L2_PIX_FMT_YUYV) {
    st = yuyv_to_image(cam, data, size, scratch, &img);
  } else {
    /* Many cameras send MJPEG without Huffman tables (no DHT segment),
     * relying on the standard ones of the JPEG specification (Annex K.3),
     * which a decoder must then supply. */
    st = fer_image_decode(data, size, FER_DECODE_DEFAULT, &img);
  }
  if (st != FER_OK) {
    fprintf(stderr, "webcam_v4l2: frame %ld: %s (%s)\n", index,
            fer_status_string(st), fer_last_error());
    return;
  }
  printf("frame %ld: %dx%d mean luma %.1f\n", index, fer_image_width(img),
         fer_image_height(img), mean_luma(img));
  fflush(stdout);
  fer_image_free(img);
}

/* Waits for each filled buffer, uses it, and queues it again. */
static int capture_loop(camera *cam, long max_frames, uint8_t *scratch) {
  for (long index = 0; !stop_requested && (max_frames < 0 || index < max_frames);) {
    struct pollfd pfd = {cam->fd, POLLIN, 0};
    int ready = poll(&pfd, 1, 2000);
    if (ready == -1) {
      if (errno == EINTR) continue; /* Ctrl-C: the loop test ends it */
      return fail("poll");
    }
    if (ready == 0) {
      fprintf(stderr, "webcam_v4l2: no frame within 2 s\n");
      return -1;
    }
    struct v4l2_buffer buf;
    memset(&buf, 0, sizeof buf);
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    if (xioctl(cam->fd, VIDIOC_DQBUF, &buf) == -1) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return fail("VIDIOC_DQBUF");
    }
    if (buf.index < (uint32_t)cam->buffer_count && !(buf.flags & V4L2_BUF_FLAG_ERROR))
      handle_frame(cam, index++, cam->buffers[buf.index].start, buf.bytesused,
                   scratch);
    if (xioctl(cam->fd, VIDIOC_QBUF, &buf) == -1) return fail("VIDIOC_QBUF");
  }
  return 0;
}

static int capture(camera *cam, long max_frames) {
  uint8_t *scratch = malloc((size_t)cam->width * (size_t)cam->height * 2);
  if (!scratch) return fail("malloc");
  int rc = capture_loop(cam, max_frames, scratch);
  free(scratch);
  return rc;
}

static void usage(void) {
  fprintf(stderr, "usage: webcam_v4l2 [-d /dev/video0] [-n FRAMES] [-s WxH] [-m]\n");
}

int main(int argc, char **argv) {
  const char *device = "/dev/video0";
  long max_frames = -1;
  int prefer_mjpeg = 0;
  camera cam;
  memset(&cam, 0, sizeof cam);
  cam.fd = -1;
  cam.width = 640;
  cam.height = 480;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (strcmp(arg, "-m") == 0) {
      prefer_mjpeg = 1;
    } else if (strcmp(arg, "-d") == 0 && value) {
      device = value;
      i++;
    } else if (strcmp(arg, "-n") == 0 && value) {
      max_frames = strtol(value, &end, 10);
      if (*end || max_frames < 0) {
        usage();
        return 2;
      }
      i++;
    } else if (strcmp(arg, "-s") == 0 && value &&
               sscanf(value, "%dx%d", &cam.width, &cam.height) == 2 &&
               cam.width > 0 && cam.height > 0) {
      i++;
    } else {
      usage();
      return 2;
    }
  }

  /* No SA_RESTART: Ctrl-C interrupts poll() so the loop notices at once. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  int rc = camera_open(&cam, device, prefer_mjpeg);
  if (rc == 0) {
    fprintf(stderr, "webcam_v4l2: %s: %dx%d %s\n", device, cam.width, cam.height,
            cam.pixel_format == V4L2_PIX_FMT_YUYV ? "YUYV" : "MJPEG");
    rc = capture(&cam, max_frames);
  }
  camera_close(&cam);
  return rc == 0 ? 0 : 1;
}
