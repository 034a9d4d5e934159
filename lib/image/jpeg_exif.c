/*
 * The orientation tag of an EXIF block (APP1 "Exif\0\0" + a TIFF header +
 * IFD0). Every offset comes from the file, so each one is checked against
 * the payload before it is followed; anything odd means "no orientation".
 */
#include <string.h>

#include "image/jpeg_internal.h"
#include "util/endian.h"

#define EXIF_TAG_ORIENTATION 0x0112
#define TIFF_TYPE_SHORT 3

static uint32_t load_u16(const uint8_t *p, int big_endian) {
  return big_endian ? fer__get_u16be(p) : fer__get_u16le(p);
}

static uint32_t load_u32(const uint8_t *p, int big_endian) {
  return big_endian ? fer__get_u32be(p) : fer__get_u32le(p);
}

int fer__jpeg_exif_orientation(const uint8_t *payload, size_t size) {
  static const uint8_t exif_id[6] = {'E', 'x', 'i', 'f', 0, 0};
  if (size < 6 + 8 || memcmp(payload, exif_id, 6) != 0) return 0;
  const uint8_t *tiff = payload + 6; /* TIFF offsets count from here */
  size_t tiff_size = size - 6;

  int big_endian;
  if (tiff[0] == 'I' && tiff[1] == 'I')
    big_endian = 0;
  else if (tiff[0] == 'M' && tiff[1] == 'M')
    big_endian = 1;
  else
    return 0;
  if (load_u16(tiff + 2, big_endian) != 42) return 0;

  uint32_t ifd = load_u32(tiff + 4, big_endian);
  if (ifd < 8 || ifd > tiff_size || tiff_size - ifd < 2) return 0;
  uint32_t entries = load_u16(tiff + ifd, big_endian);
  /* Only entries wholly inside the payload are read. */
  size_t room = (tiff_size - ifd - 2) / 12;
  if (entries > room) entries = (uint32_t)room;
  for (uint32_t i = 0; i < entries; i++) {
    const uint8_t *e = tiff + ifd + 2 + (size_t)i * 12;
    if (load_u16(e, big_endian) != EXIF_TAG_ORIENTATION) continue;
    if (load_u16(e + 2, big_endian) != TIFF_TYPE_SHORT) return 0;
    if (load_u32(e + 4, big_endian) < 1) return 0;
    /* One SHORT fits in the entry's value field, left-justified. */
    uint32_t value = load_u16(e + 8, big_endian);
    return value >= 1 && value <= 8 ? (int)value : 0;
  }
  return 0;
}
