/*
 * DEFLATE compressor. Two passes per block: LZ77 turns input into literal
 * and (length, distance) symbols, then the block is coded with whichever of
 * stored, fixed or dynamic Huffman coding is smallest for those symbols.
 *
 * The whole input is in memory, so match finding indexes absolute positions:
 * `head` holds the latest position (+1, 0 = none) for each hash of three
 * bytes, `chain` links each position to the previous one with that hash.
 */
#include "util/deflate.h"

#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "util/adler32.h"

#define WINDOW_SIZE 32768u
#define WINDOW_MASK (WINDOW_SIZE - 1)
#define HASH_BITS 15
#define MIN_MATCH 3
#define FAR_MIN_MATCH 4096
#define MAX_MATCH 258
#define BLOCK_SYMBOLS 16384 /* symbols per block before it is coded */
#define MAX_STORED 65535
#define MAX_BITS 15
#define MAX_PRECODE_BITS 7
#define NUM_LITLEN 286
/* The fixed code also assigns 286 and 287 (never sent), which shifts the
 * 9-bit codes after them: fixed-code arrays have all 288. */
#define NUM_FIXED_LITLEN 288
#define NUM_DIST 30
#define NUM_PRECODE 19
#define END_OF_BLOCK 256

/* Effort per level: how many chain links to follow, the match length that
 * is good enough to stop looking, and (lazy levels) the match length below
 * which the next position is also tried before committing. */
typedef struct level_params {
  unsigned max_chain;
  unsigned nice_length;
  unsigned lazy_below; /* 0 = greedy */
} level_params;

static const level_params level_table[10] = {
    {0, 0, 0},         {4, 16, 0},      {8, 32, 0},      {24, 48, 0},
    {24, 48, 16},      {48, 96, 32},    {128, 160, 64},  {320, 258, 128},
    {1024, 258, 258},  {4096, 258, 258}};

/* ---- Bit output --------------------------------------------------------- */

typedef struct bit_writer {
  fer__buf *out;
  uint64_t bits;
  unsigned count;
} bit_writer;

static void put_bits(bit_writer *w, uint32_t value, unsigned n) {
  w->bits |= (uint64_t)value << w->count;
  w->count += n;
  if (w->count >= 32) {
    fer__buf_u32le(w->out, (uint32_t)w->bits);
    w->bits >>= 32;
    w->count -= 32;
  }
}

static void align_to_byte(bit_writer *w) {
  while (w->count > 0) {
    fer__buf_byte(w->out, (uint8_t)w->bits);
    w->bits >>= 8;
    w->count = w->count > 8 ? w->count - 8 : 0;
  }
  w->bits = 0;
}

/* ---- Symbol coding ------------------------------------------------------ */

static unsigned floor_log2(unsigned v) {
  unsigned r = 0;
  while (v >>= 1) r++;
  return r;
}

/* Length 3..258 -> symbol index 0..28 (symbol 257 + index), extra bits and
 * their value; the inverse of the base formula in RFC 1951 3.2.5. */
static unsigned length_index(unsigned length, unsigned *extra,
                             unsigned *extra_value) {
  if (length == MAX_MATCH) {
    *extra = *extra_value = 0;
    return 28;
  }
  unsigned v = length - 3;
  if (v < 8) {
    *extra = *extra_value = 0;
    return v;
  }
  unsigned e = floor_log2(v) - 2;
  *extra = e;
  *extra_value = v & ((1u << e) - 1);
  return 4 * e + 4 + ((v >> e) - 4);
}

static unsigned distance_index(unsigned distance, unsigned *extra,
                               unsigned *extra_value) {
  unsigned v = distance - 1;
  if (v < 4) {
    *extra = *extra_value = 0;
    return v;
  }
  unsigned e = floor_log2(v) - 1;
  *extra = e;
  *extra_value = v & ((1u << e) - 1);
  return 2 * e + 2 + ((v >> e) - 2);
}

/* ---- Huffman code construction ------------------------------------------ */

typedef struct sym_freq {
  uint32_t freq;
  uint16_t sym;
} sym_freq;

static int compare_freq(const void *a, const void *b) {
  const sym_freq *x = a, *y = b;
  if (x->freq != y->freq) return x->freq < y->freq ? -1 : 1;
  return (int)x->sym - (int)y->sym;
}

/* Optimal code lengths for `freq`, no longer than `limit` bits. Huffman's
 * algorithm (two queues over sorted leaves) gives the depths; if some
 * exceed the limit they are cut to it and leaves are pushed down one level
 * at a time, each step lowering the Kraft sum by one unit of 2^-limit,
 * until the code is exactly complete again. The most frequent symbols keep
 * the shortest lengths. At least two symbols always get a code, so the
 * result is a complete code every inflater accepts. */
static void build_lengths(const uint32_t *freq_in, unsigned n, unsigned limit,
                          uint8_t *lens) {
  sym_freq leaves[NUM_LITLEN];
  unsigned m = 0;
  memset(lens, 0, n);
  for (unsigned s = 0; s < n; s++)
    if (freq_in[s]) leaves[m++] = (sym_freq){freq_in[s], (uint16_t)s};
  for (unsigned s = 0; m < 2 && s < n; s++)
    if (!freq_in[s]) leaves[m++] = (sym_freq){0, (uint16_t)s};
  /* Every caller has n >= 2 symbols (286, 30 or 19), so m >= 2; saying so
   * also keeps GCC 12 for s390x from warning (-Wstringop-overflow) that
   * depth[root] below might be written at root = 2 * 0 - 2. */
  if (m < 2) return;
  qsort(leaves, m, sizeof leaves[0], compare_freq);

  uint64_t weight[2 * NUM_LITLEN];
  uint16_t parent[2 * NUM_LITLEN];
  uint8_t depth[2 * NUM_LITLEN];
  for (unsigned i = 0; i < m; i++) weight[i] = leaves[i].freq;
  unsigned next_leaf = 0, next_node = m;
  for (unsigned k = 0; k + 1 < m; k++) {
    unsigned node = m + k, pick[2];
    for (int j = 0; j < 2; j++) {
      if (next_leaf < m && (next_node >= node || weight[next_leaf] <= weight[next_node]))
        pick[j] = next_leaf++;
      else
        pick[j] = next_node++;
    }
    weight[node] = weight[pick[0]] + weight[pick[1]];
    parent[pick[0]] = parent[pick[1]] = (uint16_t)node;
  }
  unsigned root = 2 * m - 2;
  depth[root] = 0;
  for (unsigned i = root; i-- > 0;) depth[i] = (uint8_t)(depth[parent[i]] + 1);

  unsigned count[MAX_BITS + 2] = {0};
  for (unsigned i = 0; i < m; i++) count[FER__MIN(depth[i], limit)]++;
  uint32_t kraft = 0;
  for (unsigned len = 1; len <= limit; len++) kraft += count[len] << (limit - len);
  while (kraft > (1u << limit)) {
    unsigned len = limit - 1;
    while (count[len] == 0) len--;
    count[len]--;
    count[len + 1] += 2;
    count[limit]--;
    kraft--;
  }
  /* leaves[] is sorted rarest first: hand out the longest lengths first. */
  unsigned len = limit, i = 0;
  while (i < m) {
    while (count[len] == 0) len--;
    lens[leaves[i++].sym] = (uint8_t)len;
    count[len]--;
  }
}

/* Canonical codes, bit-reversed because DEFLATE sends them MSB first into an
 * LSB-first bit stream. */
static void build_codes(const uint8_t *lens, unsigned n, uint16_t *codes) {
  unsigned count[MAX_BITS + 1] = {0}, next[MAX_BITS + 2];
  for (unsigned s = 0; s < n; s++) count[lens[s]]++;
  count[0] = 0;
  next[1] = 0;
  for (unsigned len = 1; len <= MAX_BITS; len++)
    next[len + 1] = (next[len] + count[len]) << 1;
  for (unsigned s = 0; s < n; s++) {
    unsigned len = lens[s];
    if (!len) continue;
    unsigned code = next[len]++, rev = 0;
    for (unsigned b = 0; b < len; b++) rev = (rev << 1) | ((code >> b) & 1);
    codes[s] = (uint16_t)rev;
  }
}

/* ---- Blocks ------------------------------------------------------------- */

typedef struct compressor {
  const uint8_t *data;
  size_t size;
  level_params params;
  bit_writer w;
  uint32_t *head;  /* [1 << HASH_BITS] */
  uint32_t *chain; /* [WINDOW_SIZE] */
  /* Symbols of the current block: literal byte or match length, and the
   * distance (0 for a literal). */
  uint16_t *sym_value;
  uint16_t *sym_dist;
  size_t num_syms;
  size_t block_start; /* input position where the current block begins */
} compressor;

/* The run-length coded code lengths of a dynamic header. */
typedef struct dynamic_header {
  unsigned num_litlen, num_dist, num_precode;
  uint8_t litlen_lens[NUM_LITLEN], dist_lens[NUM_DIST];
  uint8_t precode_lens[NUM_PRECODE];
  uint16_t precode_codes[NUM_PRECODE];
  uint8_t rle_sym[NUM_LITLEN + NUM_DIST];
  uint8_t rle_extra[NUM_LITLEN + NUM_DIST];
  unsigned rle_count;
  uint64_t header_bits;
} dynamic_header;

static const uint8_t precode_order[NUM_PRECODE] = {
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
static const uint8_t precode_extra[NUM_PRECODE] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7};

static void plan_dynamic_header(dynamic_header *h) {
  uint8_t all[NUM_LITLEN + NUM_DIST];
  unsigned total = h->num_litlen + h->num_dist;
  memcpy(all, h->litlen_lens, h->num_litlen);
  memcpy(all + h->num_litlen, h->dist_lens, h->num_dist);
  uint32_t freq[NUM_PRECODE] = {0};
  h->rle_count = 0;
  for (unsigned i = 0; i < total;) {
    unsigned value = all[i], run = 1;
    while (i + run < total && all[i + run] == value) run++;
    i += run;
    if (value == 0) {
      while (run >= 11) { /* 18: 11..138 zeros */
        unsigned r = FER__MIN(run, 138u);
        h->rle_sym[h->rle_count] = 18;
        h->rle_extra[h->rle_count++] = (uint8_t)(r - 11);
        run -= r;
      }
      if (run >= 3) { /* 17: 3..10 zeros */
        h->rle_sym[h->rle_count] = 17;
        h->rle_extra[h->rle_count++] = (uint8_t)(run - 3);
        run = 0;
      }
    } else {
      h->rle_sym[h->rle_count++] = (uint8_t)value;
      run--;
      while (run >= 3) { /* 16: repeat the previous 3..6 times */
        unsigned r = FER__MIN(run, 6u);
        h->rle_sym[h->rle_count] = 16;
        h->rle_extra[h->rle_count++] = (uint8_t)(r - 3);
        run -= r;
      }
    }
    while (run--) h->rle_sym[h->rle_count++] = (uint8_t)value;
  }
  for (unsigned i = 0; i < h->rle_count; i++) freq[h->rle_sym[i]]++;
  build_lengths(freq, NUM_PRECODE, MAX_PRECODE_BITS, h->precode_lens);
  build_codes(h->precode_lens, NUM_PRECODE, h->precode_codes);
  h->num_precode = NUM_PRECODE;
  while (h->num_precode > 4 &&
         h->precode_lens[precode_order[h->num_precode - 1]] == 0)
    h->num_precode--;
  h->header_bits = 5 + 5 + 4 + 3 * (uint64_t)h->num_precode;
  for (unsigned i = 0; i < h->rle_count; i++)
    h->header_bits += h->precode_lens[h->rle_sym[i]] + precode_extra[h->rle_sym[i]];
}

static void write_dynamic_header(bit_writer *w, const dynamic_header *h) {
  put_bits(w, h->num_litlen - 257, 5);
  put_bits(w, h->num_dist - 1, 5);
  put_bits(w, h->num_precode - 4, 4);
  for (unsigned i = 0; i < h->num_precode; i++)
    put_bits(w, h->precode_lens[precode_order[i]], 3);
  for (unsigned i = 0; i < h->rle_count; i++) {
    unsigned sym = h->rle_sym[i];
    put_bits(w, h->precode_codes[sym], h->precode_lens[sym]);
    if (precode_extra[sym]) put_bits(w, h->rle_extra[i], precode_extra[sym]);
  }
}

static void fixed_lengths(uint8_t *litlen, uint8_t *dist) {
  memset(litlen, 8, 144);
  memset(litlen + 144, 9, 112);
  memset(litlen + 256, 7, 24);
  memset(litlen + 280, 8, NUM_FIXED_LITLEN - 280);
  memset(dist, 5, NUM_DIST);
}

static void write_symbols(compressor *c, const uint8_t *litlen_lens,
                          unsigned num_litlen, const uint8_t *dist_lens) {
  uint16_t litlen_codes[NUM_FIXED_LITLEN], dist_codes[NUM_DIST];
  build_codes(litlen_lens, num_litlen, litlen_codes);
  build_codes(dist_lens, NUM_DIST, dist_codes);
  for (size_t i = 0; i < c->num_syms; i++) {
    unsigned value = c->sym_value[i], distance = c->sym_dist[i];
    if (distance == 0) {
      put_bits(&c->w, litlen_codes[value], litlen_lens[value]);
      continue;
    }
    unsigned extra, extra_value;
    unsigned li = length_index(value, &extra, &extra_value);
    put_bits(&c->w, litlen_codes[257 + li], litlen_lens[257 + li]);
    if (extra) put_bits(&c->w, extra_value, extra);
    unsigned di = distance_index(distance, &extra, &extra_value);
    put_bits(&c->w, dist_codes[di], dist_lens[di]);
    if (extra) put_bits(&c->w, extra_value, extra);
  }
  put_bits(&c->w, litlen_codes[END_OF_BLOCK], litlen_lens[END_OF_BLOCK]);
}

static void write_stored(compressor *c, size_t start, size_t end, int final) {
  do {
    size_t n = FER__MIN(end - start, (size_t)MAX_STORED);
    int last = final && start + n == end;
    put_bits(&c->w, (uint32_t)last, 3); /* BTYPE 00 */
    align_to_byte(&c->w);
    fer__buf_u16le(c->w.out, (uint16_t)n);
    fer__buf_u16le(c->w.out, (uint16_t)~n);
    fer__buf_append(c->w.out, c->data + start, n);
    start += n;
  } while (start < end);
}

/* Codes the symbols gathered for input [block_start, end) as the cheapest
 * of the three block types. */
static void flush_block(compressor *c, size_t end, int final) {
  uint32_t litlen_freq[NUM_LITLEN] = {0}, dist_freq[NUM_DIST] = {0};
  uint64_t extra_bits = 0;
  for (size_t i = 0; i < c->num_syms; i++) {
    unsigned extra, extra_value;
    if (c->sym_dist[i] == 0) {
      litlen_freq[c->sym_value[i]]++;
      continue;
    }
    litlen_freq[257 + length_index(c->sym_value[i], &extra, &extra_value)]++;
    extra_bits += extra;
    dist_freq[distance_index(c->sym_dist[i], &extra, &extra_value)]++;
    extra_bits += extra;
  }
  litlen_freq[END_OF_BLOCK] = 1;

  dynamic_header h;
  build_lengths(litlen_freq, NUM_LITLEN, MAX_BITS, h.litlen_lens);
  build_lengths(dist_freq, NUM_DIST, MAX_BITS, h.dist_lens);
  h.num_litlen = NUM_LITLEN;
  while (h.litlen_lens[h.num_litlen - 1] == 0) h.num_litlen--;
  h.num_dist = NUM_DIST;
  while (h.num_dist > 1 && h.dist_lens[h.num_dist - 1] == 0) h.num_dist--;
  plan_dynamic_header(&h);

  uint8_t fixed_litlen[NUM_FIXED_LITLEN], fixed_dist[NUM_DIST];
  fixed_lengths(fixed_litlen, fixed_dist);
  uint64_t dynamic_bits = 3 + h.header_bits + extra_bits;
  uint64_t fixed_bits = 3 + extra_bits;
  for (unsigned s = 0; s < NUM_LITLEN; s++) {
    dynamic_bits += (uint64_t)litlen_freq[s] * h.litlen_lens[s];
    fixed_bits += (uint64_t)litlen_freq[s] * fixed_litlen[s];
  }
  for (unsigned s = 0; s < NUM_DIST; s++) {
    dynamic_bits += (uint64_t)dist_freq[s] * h.dist_lens[s];
    fixed_bits += (uint64_t)dist_freq[s] * fixed_dist[s];
  }
  size_t raw = end - c->block_start;
  /* Stored: each piece of up to 65535 bytes has a 3-bit header, padding
   * to a byte boundary (5 bits after the first) and LEN/NLEN. */
  uint64_t pieces = raw ? (raw + MAX_STORED - 1) / MAX_STORED : 1;
  uint64_t stored_bits = 8 * (uint64_t)raw + pieces * (3 + 32) +
                         (8 - (c->w.count + 3) % 8) % 8 + (pieces - 1) * 5;

  if (stored_bits <= fixed_bits && stored_bits <= dynamic_bits) {
    write_stored(c, c->block_start, end, final);
  } else if (fixed_bits <= dynamic_bits) {
    put_bits(&c->w, (uint32_t)final | (1u << 1), 3);
    write_symbols(c, fixed_litlen, NUM_FIXED_LITLEN, fixed_dist);
  } else {
    put_bits(&c->w, (uint32_t)final | (2u << 1), 3);
    write_dynamic_header(&c->w, &h);
    write_symbols(c, h.litlen_lens, NUM_LITLEN, h.dist_lens);
  }
  c->num_syms = 0;
  c->block_start = end;
}

/* ---- LZ77 --------------------------------------------------------------- */

static inline uint32_t hash3(const uint8_t *p) {
  uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
  return (v * 0x9E3779B1u) >> (32 - HASH_BITS);
}

static inline void insert_position(compressor *c, size_t pos) {
  if (pos + MIN_MATCH > c->size) return;
  uint32_t h = hash3(c->data + pos);
  c->chain[pos & WINDOW_MASK] = c->head[h];
  c->head[h] = (uint32_t)pos + 1;
}

static inline unsigned common_length(const uint8_t *a, const uint8_t *b,
                                     unsigned limit) {
  unsigned n = 0;
  while (n + 8 <= limit) {
    uint64_t x, y;
    memcpy(&x, a + n, 8);
    memcpy(&y, b + n, 8);
    if (x != y) break;
    n += 8;
  }
  while (n < limit && a[n] == b[n]) n++;
  return n;
}

/* Longest earlier match for `pos` that is longer than `better_than`;
 * returns its length (0 when none) and distance. */
static unsigned find_match(const compressor *c, size_t pos,
                           unsigned better_than, unsigned *distance) {
  size_t avail = c->size - pos;
  unsigned limit = avail < MAX_MATCH ? (unsigned)avail : MAX_MATCH;
  if (limit < MIN_MATCH || better_than >= limit) return 0;
  const uint8_t *here = c->data + pos;
  unsigned best = better_than < MIN_MATCH - 1 ? MIN_MATCH - 1 : better_than;
  unsigned found = 0;
  uint32_t candidate = c->head[hash3(here)];
  unsigned chain = c->params.max_chain;
  while (candidate && chain--) {
    size_t cpos = candidate - 1;
    if (cpos >= pos || pos - cpos > WINDOW_SIZE) break;
    const uint8_t *there = c->data + cpos;
    if (there[best] == here[best] && there[0] == here[0]) {
      unsigned len = common_length(there, here, limit);
      if (len > best) {
        best = len;
        found = len;
        *distance = (unsigned)(pos - cpos);
        if (len >= c->params.nice_length || len == limit) break;
      }
    }
    uint32_t next = c->chain[cpos & WINDOW_MASK];
    if (next >= candidate) break; /* the slot was reused by a newer position */
    candidate = next;
  }
  /* A 3-byte match far back costs about as many bits as three literals
   * and makes the distance code flatter: not worth it. */
  if (found == MIN_MATCH && *distance > FAR_MIN_MATCH) return 0;
  return found;
}

static void emit(compressor *c, unsigned value, unsigned distance,
                 size_t input_end) {
  c->sym_value[c->num_syms] = (uint16_t)value;
  c->sym_dist[c->num_syms] = (uint16_t)distance;
  if (++c->num_syms == BLOCK_SYMBOLS) flush_block(c, input_end, 0);
}

static void compress_greedy(compressor *c) {
  size_t pos = 0;
  while (pos < c->size) {
    unsigned distance = 0;
    unsigned len = find_match(c, pos, 0, &distance);
    insert_position(c, pos);
    if (len >= MIN_MATCH) {
      /* Indexing inside long matches buys little at these levels. */
      if (len <= c->params.nice_length)
        for (size_t p = pos + 1; p < pos + len; p++) insert_position(c, p);
      pos += len;
      emit(c, len, distance, pos);
    } else {
      emit(c, c->data[pos], 0, pos + 1);
      pos++;
    }
  }
}

/* Lazy matching: a match found at pos-1 is held back while pos is tried; if
 * pos has a longer one, pos-1 goes out as a literal instead. */
static void compress_lazy(compressor *c) {
  size_t pos = 0;
  unsigned held_len = 0, held_dist = 0;
  int held = 0; /* data[pos-1] is not emitted yet */
  while (pos < c->size) {
    unsigned len = 0, distance = 0;
    if (!held || held_len < c->params.lazy_below)
      len = find_match(c, pos, held ? held_len : 0, &distance);
    insert_position(c, pos);
    if (held && held_len >= MIN_MATCH && len <= held_len) {
      size_t end = pos - 1 + held_len;
      for (size_t p = pos + 1; p < end; p++) insert_position(c, p);
      emit(c, held_len, held_dist, end);
      pos = end;
      held = 0;
      held_len = 0;
      continue;
    }
    if (held) emit(c, c->data[pos - 1], 0, pos);
    held = 1;
    held_len = len;
    held_dist = distance;
    pos++;
  }
  if (held) emit(c, c->data[pos - 1], 0, pos);
}

fer_status fer__deflate(const uint8_t *in, size_t size, int level,
                        fer__buf *out) {
  if (level < FER__DEFLATE_MIN_LEVEL || level > FER__DEFLATE_MAX_LEVEL)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "deflate: level %d is outside %d..%d", level,
                     FER__DEFLATE_MIN_LEVEL, FER__DEFLATE_MAX_LEVEL);
  if ((uint64_t)size >= UINT32_MAX)
    return fer__fail(FER_ERR_TOO_LARGE, "deflate: input of %zu bytes is over 4 GiB",
                     size);
  compressor c;
  memset(&c, 0, sizeof c);
  c.data = in;
  c.size = size;
  c.params = level_table[level];
  c.w.out = out;
  if (level == 0) {
    write_stored(&c, 0, size, 1);
    align_to_byte(&c.w);
    return fer__buf_status(out, "deflate");
  }
  c.head = fer__calloc((size_t)1 << HASH_BITS, sizeof *c.head);
  c.chain = fer__calloc(WINDOW_SIZE, sizeof *c.chain);
  c.sym_value = fer__malloc(BLOCK_SYMBOLS * sizeof *c.sym_value);
  c.sym_dist = fer__malloc(BLOCK_SYMBOLS * sizeof *c.sym_dist);
  fer_status st = FER_OK;
  if (!c.head || !c.chain || !c.sym_value || !c.sym_dist) {
    st = fer__fail(FER_ERR_OUT_OF_MEMORY, "deflate: out of memory");
  } else {
    if (c.params.lazy_below)
      compress_lazy(&c);
    else
      compress_greedy(&c);
    flush_block(&c, size, 1);
    align_to_byte(&c.w);
    st = fer__buf_status(out, "deflate");
  }
  fer__free(c.head);
  fer__free(c.chain);
  fer__free(c.sym_value);
  fer__free(c.sym_dist);
  return st;
}

fer_status fer__zlib_compress(const uint8_t *in, size_t size, int level,
                              fer__buf *out) {
  /* CMF 0x78: deflate with a 32 KiB window; FLG: the level hint in the top
   * two bits and check bits making the pair a multiple of 31. */
  unsigned hint = level <= 1 ? 0 : level <= 5 ? 1 : level == 6 ? 2 : 3;
  unsigned cmf = 0x78, flg = hint << 6;
  flg += (31 - (cmf * 256 + flg) % 31) % 31;
  fer__buf_byte(out, (uint8_t)cmf);
  fer__buf_byte(out, (uint8_t)flg);
  fer_status st = fer__deflate(in, size, level, out);
  if (st != FER_OK) return st;
  fer__buf_u32be(out, fer__adler32(1, in, size));
  return fer__buf_status(out, "zlib");
}
