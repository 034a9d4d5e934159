/*
 * analyze_photo: the two-minute tour of libfer. Finds the faces in a photo,
 * prints each one's expression, and writes the photo with boxes and labels.
 *
 *   analyze_photo IN.jpg OUT.png
 *
 * Uses the model and cascade built into libfer; see fer_analyzer_create()
 * to bring your own.
 */
#include <stdio.h>

#include <fer.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: analyze_photo IN.jpg OUT.png\n");
    return 2;
  }
  fer_image *photo = NULL;
  fer_analyzer *analyzer = NULL;
  if (fer_image_load(argv[1], FER_DECODE_DEFAULT, &photo) != FER_OK ||
      fer_analyzer_create_default(&analyzer) != FER_OK) {
    fprintf(stderr, "analyze_photo: %s\n", fer_last_error());
    fer_image_free(photo);
    return 1;
  }
  /* Room for 32 faces and their probabilities (FER2013 has 7 classes; 16
   * leaves room for models with more). */
  fer_face faces[32];
  float probs[32 * 16];
  size_t count = 0;
  fer_status st = fer_analyzer_run(analyzer, photo, faces, probs, 32, 16, &count);
  if (st == FER_ERR_BUFFER_TOO_SMALL) count = 32; /* the 32 largest were kept */
  else if (st != FER_OK) count = 0;
  printf("%zu face(s)\n", count);
  for (size_t i = 0; i < count; i++)
    printf("  at %d,%d (%dx%d): %s, %.0f%%\n", faces[i].box.x, faces[i].box.y,
           faces[i].box.width, faces[i].box.height,
           fer_analyzer_class_name(analyzer, faces[i].label), 100.0 * faces[i].confidence);

  /* Draw in colour even on a gray photo. */
  fer_image *canvas = NULL;
  if (st == FER_OK || st == FER_ERR_BUFFER_TOO_SMALL) st = fer_image_to_rgb(photo, &canvas);
  if (st == FER_OK) st = fer_analyzer_annotate(analyzer, canvas, faces, count);
  if (st == FER_OK) st = fer_image_save(canvas, argv[2], FER_IMAGE_FORMAT_AUTO);
  if (st != FER_OK) fprintf(stderr, "analyze_photo: %s\n", fer_last_error());
  fer_image_free(canvas);
  fer_image_free(photo);
  fer_analyzer_free(analyzer);
  return st == FER_OK ? 0 : 1;
}
