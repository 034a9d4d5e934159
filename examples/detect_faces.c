/*
 * detect_faces: the smallest complete use of libfer's face detector.
 *
 *   detect_faces photo.jpg /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml
 *
 * It does what every OpenCV tutorial does with
 *   cv2.CascadeClassifier(xml).detectMultiScale(gray, 1.3, 5)
 * and prints the same boxes.
 */
#include <stdio.h>

#include <fer.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s IMAGE CASCADE.xml\n", argv[0]);
    return 2;
  }

  /* 1. The photo (JPEG, PNG, BMP or PNM). Colour is fine: the detector
   *    converts to gray itself. */
  fer_image *image;
  if (fer_image_load(argv[1], FER_DECODE_DEFAULT, &image) != FER_OK) {
    fprintf(stderr, "%s\n", fer_last_error());
    return 1;
  }

  /* 2. The cascade: any OpenCV cascade XML file. Load it once; it can be
   *    shared by every thread. */
  fer_cascade *cascade;
  if (fer_cascade_load(argv[2], &cascade) != FER_OK) {
    fprintf(stderr, "%s\n", fer_last_error());
    fer_image_free(image);
    return 1;
  }

  /* 3. A detector (one per thread) with OpenCV's usual settings. */
  fer_detector *detector;
  if (fer_detector_create(cascade, &detector) != FER_OK) {
    fprintf(stderr, "%s\n", fer_last_error());
    fer_cascade_free(cascade);
    fer_image_free(image);
    return 1;
  }
  fer_detector_set(detector, FER_DETECT_SCALE_FACTOR, 1.3);
  fer_detector_set(detector, FER_DETECT_MIN_NEIGHBORS, 5);

  /* 4. Detect into our own array. No faces is not an error: count is 0. */
  fer_detection faces[100];
  size_t count = 0;
  fer_status status = fer_detector_run(detector, image, faces, 100, &count);
  if (status == FER_ERR_BUFFER_TOO_SMALL) count = 100; /* keep the first 100 */
  else if (status != FER_OK) fprintf(stderr, "%s\n", fer_last_error());

  /* 5. Print the boxes. */
  printf("%zu face(s)\n", count);
  for (size_t i = 0; i < count; i++)
    printf("x=%d y=%d width=%d height=%d\n", faces[i].box.x, faces[i].box.y,
           faces[i].box.width, faces[i].box.height);

  /* 6. Free in reverse order: detectors before the cascade they use. */
  fer_detector_free(detector);
  fer_cascade_free(cascade);
  fer_image_free(image);
  return status == FER_OK || status == FER_ERR_BUFFER_TOO_SMALL ? 0 : 1;
}
