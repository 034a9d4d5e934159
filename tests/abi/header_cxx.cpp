// The public header compiles as C++ and its functions link with C names.
#include "fer.h"

int main() {
  const char *v = fer_version();
  fer_rect r = {1, 2, 3, 4};
  return (v != nullptr && r.width == 3 && fer_status_string(FER_OK)[0] == 'F') ? 0 : 1;
}
