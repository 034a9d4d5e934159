/* The frozen public structs keep their size and field offsets. */
#include <stddef.h>

#include "harness.h"

int main(void) {
  CHECK_EQ_INT(sizeof(fer_rect), 16);
  CHECK_EQ_INT(offsetof(fer_rect, x), 0);
  CHECK_EQ_INT(offsetof(fer_rect, y), 4);
  CHECK_EQ_INT(offsetof(fer_rect, width), 8);
  CHECK_EQ_INT(offsetof(fer_rect, height), 12);
  CHECK_EQ_INT(sizeof(fer_status), sizeof(int));
  CHECK_EQ_INT(sizeof(fer_detection), 32);
  CHECK_EQ_INT(offsetof(fer_detection, box), 0);
  CHECK_EQ_INT(offsetof(fer_detection, neighbors), 16);
  CHECK_EQ_INT(offsetof(fer_detection, reserved), 20);
  CHECK_EQ_INT(offsetof(fer_detection, score), 24);
  CHECK_EQ_INT(sizeof(fer_face), 40);
  CHECK_EQ_INT(offsetof(fer_face, neighbors), 16);
  CHECK_EQ_INT(offsetof(fer_face, label), 20);
  CHECK_EQ_INT(offsetof(fer_face, detector_score), 24);
  CHECK_EQ_INT(offsetof(fer_face, confidence), 32);
  CHECK_EQ_INT(offsetof(fer_face, reserved), 36);
  return harness_finish();
}
