/* A program outside libfer that uses it through its public header only: it
 * builds an image, encodes it and reads the version, so linking, headers and
 * the runtime library are all exercised. */
#include <stdio.h>
#include <string.h>

#include <fer.h>

int main(void) {
  fer_image *img = NULL;
  if (fer_image_create(8, 4, 3, &img) != FER_OK) {
    fprintf(stderr, "fer_image_create: %s\n", fer_last_error());
    return 1;
  }
  int ok = fer_image_width(img) == 8 && fer_image_height(img) == 4;
  fer_image_free(img);
  if (fer_set_num_threads(-5) != FER_ERR_INVALID_ARGUMENT || !strstr(fer_last_error(), "-5")) ok = 0;
  printf("consumer: libfer %s %s\n", fer_version(), ok ? "works" : "FAILED");
  return ok ? 0 : 1;
}
