/*
 * libfer video: YUV4MPEG2 (Y4M) streams in and out, and a face tracker that
 * keeps a face's identity and smooths its expression across frames.
 *
 * Y4M is the uncompressed stream that ffmpeg reads and writes with
 * `-f yuv4mpegpipe`, so libfer handles any video through a pipe:
 *
 *   ffmpeg -i in.mp4 -f yuv4mpegpipe - | fer video - -o out.y4m
 *
 * Colour conversions use BT.601 limited range ("studio swing": luma 16..235,
 * chroma 16..240 around 128), which is what Y4M from ffmpeg and cameras hold.
 *
 * Thread safety: a reader, a writer or a tracker belongs to one thread at a
 * time; different objects may be used from different threads at once.
 */
#ifndef FER_VIDEO_H
#define FER_VIDEO_H

#include <stdio.h>

#include "core.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- Y4M --- */

typedef struct fer_y4m_reader fer_y4m_reader;
typedef struct fer_y4m_writer fer_y4m_writer;

/* The `C` tag of a stream. Every 4:2:0 variant stores the same bytes (a
 * width x height luma plane, then two ceil(width/2) x ceil(height/2) chroma
 * planes, U then V); they differ only in where chroma samples sit, which
 * libfer reports but does not interpolate for (each chroma sample covers its
 * 2x2 block). Values are part of the ABI. */
typedef enum fer_y4m_colorspace {
  FER_Y4M_420JPEG = 1,  /* `C420jpeg`, and a stream with no C tag */
  FER_Y4M_420PALDV = 2, /* `C420paldv` */
  FER_Y4M_420MPEG2 = 3, /* `C420mpeg2` */
  FER_Y4M_420 = 4,      /* `C420` */
  FER_Y4M_MONO = 5      /* `Cmono`: the luma plane only */
} fer_y4m_colorspace;

/* The `I` tag of a stream. libfer reads interlaced frames as whole frames. */
typedef enum fer_y4m_interlace {
  FER_Y4M_INTERLACE_UNKNOWN = 0,      /* `I?` or no I tag */
  FER_Y4M_INTERLACE_PROGRESSIVE = 1,  /* `Ip` */
  FER_Y4M_INTERLACE_TOP_FIRST = 2,    /* `It` */
  FER_Y4M_INTERLACE_BOTTOM_FIRST = 3, /* `Ib` */
  FER_Y4M_INTERLACE_MIXED = 4         /* `Im`: per-frame, in FRAME tags */
} fer_y4m_interlace;

/* fer_y4m_reader_image() flag: a 1-channel gray image made from the luma
 * plane alone (no chroma work), expanded from 16..235 to 0..255: the BT.601
 * luma of the RGB frame within 1 wherever no RGB channel was clipped to 0
 * or 255. The face detector needs only this. */
#define FER_Y4M_READ_GRAY 1u

/* Opens a Y4M stream and parses its header. `path` "-" reads standard input
 * (which is not closed). The stream is read strictly in order, one frame at
 * a time and never past the frame asked for, so a pipe works.
 *
 * Statuses: FER_ERR_IO (cannot open or read), FER_ERR_FORMAT (not Y4M, a
 * malformed tag, a missing W or H; the message names the tag), FER_ERR_TRUNCATED
 * (the header line does not end), FER_ERR_UNSUPPORTED (a colour space other
 * than 4:2:0 8-bit or mono), FER_ERR_TOO_LARGE (a frame beyond
 * FER_IMAGE_MAX_SIDE or FER_IMAGE_MAX_PIXELS, refused before allocating),
 * FER_ERR_OUT_OF_MEMORY, FER_ERR_INVALID_ARGUMENT (NULL path or out).
 * `*out` is NULL on failure. */
FER_API fer_status fer_y4m_reader_open(const char *path, fer_y4m_reader **out);

/* As fer_y4m_reader_open() on a stream the caller opened (a file, a pipe, a
 * memory stream). The reader reads from `file` but never closes it; the
 * caller closes it after fer_y4m_reader_free(). */
FER_API fer_status fer_y4m_reader_from_file(FILE *file, fer_y4m_reader **out);

/* Closes the file if the reader opened it, frees everything. NULL is a
 * no-op. Images made by fer_y4m_reader_image() stay valid. */
FER_API void fer_y4m_reader_free(fer_y4m_reader *reader);

/* Stream properties from the header (0 for a NULL or freed reader). */
FER_API int fer_y4m_reader_width(const fer_y4m_reader *reader);
FER_API int fer_y4m_reader_height(const fer_y4m_reader *reader);
FER_API fer_y4m_colorspace fer_y4m_reader_colorspace(const fer_y4m_reader *reader);
FER_API fer_y4m_interlace fer_y4m_reader_interlace(const fer_y4m_reader *reader);

/* The frame rate (`F` tag) and pixel aspect ratio (`A` tag) as fractions.
 * 0:0 means the stream does not say (no tag, or `A0:0`). Either pointer may
 * be NULL. FER_ERR_MISUSE for a NULL or freed reader. */
FER_API fer_status fer_y4m_reader_frame_rate(const fer_y4m_reader *reader,
                                             int *numerator, int *denominator);
FER_API fer_status fer_y4m_reader_aspect(const fer_y4m_reader *reader,
                                         int *numerator, int *denominator);

/* Reads the next frame into the reader's buffer.
 *
 * The end rule: when the stream ends cleanly at a frame boundary, the call
 * returns FER_OK with `*got_frame` = 0; every later call does the same.
 * Otherwise FER_OK means `*got_frame` = 1 and a new frame is current.
 * A stream that ends inside a FRAME line or inside frame data gives
 * FER_ERR_TRUNCATED, with the frame number (0 = first) and the bytes missing
 * in the message; a line that is not a FRAME line gives FER_ERR_FORMAT.
 * After an error the reader stays in error: later calls return the same
 * status. FRAME parameters (per-frame interlacing and X tags) are read and
 * ignored. */
FER_API fer_status fer_y4m_reader_next(fer_y4m_reader *reader, int *got_frame);

/* Frames read so far (the current frame is number count - 1). */
FER_API long fer_y4m_reader_frame_count(const fer_y4m_reader *reader);

/* The current frame's raw planes, owned by the reader and valid until the
 * next fer_y4m_reader_next() or fer_y4m_reader_free(). planes[0] is Y
 * (width x height bytes, row stride strides[0] = width), planes[1] and [2]
 * are U and V (ceil(width/2) x ceil(height/2), stride ceil(width/2)); for
 * Cmono streams planes[1] and planes[2] are NULL and their strides 0.
 * Statuses: FER_ERR_MISUSE (NULL/freed reader, or no current frame),
 * FER_ERR_INVALID_ARGUMENT (NULL arrays). */
FER_API fer_status fer_y4m_reader_planes(const fer_y4m_reader *reader,
                                         const uint8_t *planes[3],
                                         size_t strides[3]);

/* The current frame as a new image that the caller frees with
 * fer_image_free(): 3-channel RGB (converted as fer_image_from_yuv420()
 * does, each chroma sample covering its 2x2 block; a Cmono stream gives
 * gray replicated), or with FER_Y4M_READ_GRAY a 1-channel image from the
 * luma plane only. Statuses: FER_ERR_MISUSE (no current
 * frame), FER_ERR_INVALID_ARGUMENT (unknown flags, NULL out),
 * FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_y4m_reader_image(const fer_y4m_reader *reader,
                                        unsigned flags, fer_image **out);

/* fer_y4m_writer_open() flag: write a `Cmono` stream (luma only); colour
 * images are reduced to their BT.601 luma. Without it the stream is
 * `C420jpeg`. */
#define FER_Y4M_WRITE_MONO 1u

/* Opens a Y4M stream for frames of width x height. `path` "-" writes to
 * standard output (which is not closed). The file is written in place, not
 * through a temporary file, because a video is streamed: the target may be
 * a pipe, and a stream cut short is still readable up to its last frame.
 * The header is written with the first frame (or at close when there is
 * none), so the setters below may be called until then.
 *
 * Statuses: FER_ERR_INVALID_ARGUMENT (NULL path/out, unknown flags, a size
 * that is not positive), FER_ERR_TOO_LARGE (beyond the image limits),
 * FER_ERR_IO (cannot open), FER_ERR_OUT_OF_MEMORY. `*out` is NULL on
 * failure. */
FER_API fer_status fer_y4m_writer_open(const char *path, int width, int height,
                                       unsigned flags, fer_y4m_writer **out);

/* As fer_y4m_writer_open() on a stream the caller opened; the writer never
 * closes `file`. */
FER_API fer_status fer_y4m_writer_from_file(FILE *file, int width, int height,
                                            unsigned flags,
                                            fer_y4m_writer **out);

/* Header fields, before the first frame (FER_ERR_MISUSE after it). The
 * frame rate defaults to 25:1 and must be positive; the aspect defaults to
 * 1:1, and 0:0 writes "unknown". Interlacing is always written as `Ip`.
 * Statuses: FER_ERR_INVALID_ARGUMENT for values out of range. Pass a
 * reader's fer_y4m_reader_frame_rate() here to keep a video's timing (a
 * 0:0 rate from the reader is refused: keep the default then). */
FER_API fer_status fer_y4m_writer_set_frame_rate(fer_y4m_writer *writer,
                                                 int numerator,
                                                 int denominator);
FER_API fer_status fer_y4m_writer_set_aspect(fer_y4m_writer *writer,
                                             int numerator, int denominator);

/* Appends one frame and flushes the stream, so a reader at the other end
 * of a pipe gets it at once. Gray and RGB images are both accepted and
 * converted as fer_image_to_pixels(FER_PIXEL_I420) does: BT.601 limited
 * range, each chroma sample the average of its 2x2 block (or of the 2 or 1
 * pixels of an edge block when the width or height is odd); gray images
 * give neutral chroma.
 * Statuses: FER_ERR_SHAPE (the image size differs from the stream's),
 * FER_ERR_IO (a write failed, e.g. the pipe closed: the writer then stays
 * in error), FER_ERR_MISUSE, FER_ERR_OUT_OF_MEMORY. Writing to a pipe whose
 * reader has gone raises SIGPIPE unless the program ignores that signal;
 * libfer never changes signal handling. */
FER_API fer_status fer_y4m_writer_write(fer_y4m_writer *writer,
                                        const fer_image *img);

/* Writes the header if no frame was written, flushes, closes the file if
 * the writer opened it, and frees the writer (always, even on error).
 * Returns FER_ERR_IO when flushing or closing failed, or the error that
 * an earlier write left. NULL is a no-op returning FER_OK. */
FER_API fer_status fer_y4m_writer_close(fer_y4m_writer *writer);

/* ------------------------------------------------------------ tracker --- */

/* A tracker follows faces across video frames. Each frame, the caller
 * passes the detected boxes and their class probabilities; the tracker
 * matches them greedily to its tracks by intersection over union with each
 * track's last detected (not smoothed) box (highest IoU first; ties go to
 * the older track, then the earlier box), starts a
 * new track with a fresh id for each box left over, forgets tracks unseen
 * for too long, and smooths each track's probabilities (and optionally its
 * box) with an exponential moving average so that labels do not flicker.
 * Deterministic: the same sequence of calls gives the same output. After
 * its buffers have grown to the largest frame seen, an update allocates
 * nothing. */
typedef struct fer_tracker fer_tracker;

/* Keys for fer_tracker_set()/fer_tracker_get(); part of the ABI.
 * fer_tracker_param_info() gives each one's name, bounds and default. */
typedef enum fer_tracker_param {
  /* A box continues a track when their IoU is at least this (and above 0).
   * Default 0.3, range 0..1. */
  FER_TRACKER_IOU_THRESHOLD = 1,
  /* A track survives this many consecutive frames without a matching box;
   * it is dropped on the next one. Integer, default 5, range 0..10000. */
  FER_TRACKER_MAX_MISSED = 2,
  /* EMA weight of the past for probabilities: smoothed = a * smoothed +
   * (1 - a) * new. 0 = no smoothing. Default 0.6, range 0..0.99. */
  FER_TRACKER_PROB_SMOOTHING = 3,
  /* The same for the box corners; default 0 (boxes as detected). */
  FER_TRACKER_BOX_SMOOTHING = 4
} fer_tracker_param;

/* A tracker for `num_classes` probabilities per box (0..1024; 0 tracks
 * identities only). Statuses: FER_ERR_INVALID_ARGUMENT,
 * FER_ERR_OUT_OF_MEMORY. `*out` is NULL on failure. */
FER_API fer_status fer_tracker_create(int num_classes, fer_tracker **out);
FER_API void fer_tracker_free(fer_tracker *tracker);

/* Sets or reads a parameter; it takes effect at the next update.
 * FER_ERR_NOT_FOUND for an unknown key, FER_ERR_INVALID_ARGUMENT for a value
 * outside the bounds (or not an integer for an integer key), FER_ERR_MISUSE
 * for a NULL or freed tracker. */
FER_API fer_status fer_tracker_set(fer_tracker *tracker, fer_tracker_param key,
                                   double value);
FER_API fer_status fer_tracker_get(const fer_tracker *tracker,
                                   fer_tracker_param key, double *value);

/* A key's name ("iou_threshold", ...), bounds and default; any output
 * pointer may be NULL. FER_ERR_NOT_FOUND for an unknown key, so a program
 * can list every key by counting up from 1. Thread-safe (static data). */
FER_API fer_status fer_tracker_param_info(fer_tracker_param key,
                                          const char **name, double *min,
                                          double *max, double *default_value);

/* Processes one frame: `count` boxes (0 is a valid empty frame) and, when
 * the tracker has classes, count x num_classes probabilities, row per box.
 * For box i it writes: ids[i], the track's id (1, 2, ... in order of
 * creation; after INT32_MAX ids start again at 1); smoothed_probs[i *
 * num_classes + c]; top_class[i], the index of the largest smoothed
 * probability (the lowest index on ties; -1 without classes); boxes[i], the
 * smoothed box (the input box when box smoothing is 0). Any output may be
 * NULL when not wanted. The outputs are the caller's arrays of `count`
 * (x num_classes) elements.
 * Statuses: FER_ERR_INVALID_ARGUMENT (count outside 0..4096, a box with a
 * width or height below 1, a probability that is not finite, NULL inputs
 * with count > 0), FER_ERR_MISUSE, FER_ERR_OUT_OF_MEMORY (the tracker is
 * unchanged then). */
FER_API fer_status fer_tracker_update(fer_tracker *tracker,
                                      const fer_rect *detections,
                                      const float *probs, int count,
                                      int32_t *ids, float *smoothed_probs,
                                      int *top_class, fer_rect *boxes);

/* Tracks alive now (matched, or missed for at most MAX_MISSED frames). */
FER_API int fer_tracker_num_tracks(const fer_tracker *tracker);

/* Forgets every track; the next id is 1 again. Parameters are kept. */
FER_API fer_status fer_tracker_reset(fer_tracker *tracker);

#ifdef __cplusplus
}
#endif

#endif /* FER_VIDEO_H */
